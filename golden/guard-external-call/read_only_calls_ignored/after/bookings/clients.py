class PartnerClient:
    def get_booking(self, ref):
        raise NotImplementedError


partner_client = PartnerClient()
