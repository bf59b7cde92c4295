from .ovh import get_ovh_client


def create_redirection(domain, source, target):
    """Create the redirection at OVH; return its id."""
    created = get_ovh_client().post(f"/email/domain/{domain}/redirection", _from=source, to=target)
    return created["id"]
