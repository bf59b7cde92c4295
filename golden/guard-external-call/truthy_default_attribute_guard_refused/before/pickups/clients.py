class CarrierClient:
    def schedule_pickup(self, address, weight_grams):
        raise NotImplementedError


carrier_client = CarrierClient()
