"""Thin wrapper around the Keyless partner API."""
import requests

BASE_URL = "https://api.keyless.example.com"


def create_booking(data):
    response = requests.post(f"{BASE_URL}/bookings", json=data, timeout=10)
    response.raise_for_status()
    return response.json()
