import requests


def create_booking(room):
    return requests.post("https://partner.example.com/bookings", json={"room": room}).json()
