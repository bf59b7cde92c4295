import ovh


def get_ovh_client():
    return ovh.Client(endpoint="ovh-eu")
