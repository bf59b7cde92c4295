class CarrierClient:
    def book(self, recipient):
        raise NotImplementedError


carrier_client = CarrierClient()
