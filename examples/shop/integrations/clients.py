"""Thin wrappers around partner APIs (real HTTP in production)."""

import requests


class KeylessClientWrapper:
    """Smart-lock vendor: access codes for reservations."""

    base_url = "https://locks.example.com/api"

    def create_access_code(self, lock_id: str, valid_from: str, valid_to: str) -> dict:
        return requests.post(f"{self.base_url}/locks/{lock_id}/codes", json={"from": valid_from, "to": valid_to}).json()


class PartnerBookingClient:
    """A hotel partner's booking API."""

    def create_booking(self, data: dict) -> dict:
        return requests.post("https://partner.example.com/bookings", json=data).json()


def get_ovh_client():
    import ovh

    return ovh.Client(endpoint="ovh-eu")


keyless_client_wrapper = KeylessClientWrapper()
partner_client = PartnerBookingClient()
