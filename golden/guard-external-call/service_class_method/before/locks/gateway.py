class PartnerGateway:
    def post(self, path, json):
        raise NotImplementedError
