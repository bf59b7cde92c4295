class PartnerClient:
    def create_booking(self, room):
        raise NotImplementedError


partner_client = PartnerClient()
