class PartnerClient:
    def cancel_booking(self, ref):
        raise NotImplementedError


partner_client = PartnerClient()
