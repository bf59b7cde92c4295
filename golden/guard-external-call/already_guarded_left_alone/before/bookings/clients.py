class PartnerClient:
    def create_booking(self, room):
        raise NotImplementedError

    def book_lock(self, lock):
        raise NotImplementedError


partner_client = PartnerClient()
