from .partner import PartnerClient

partner_client = PartnerClient()
