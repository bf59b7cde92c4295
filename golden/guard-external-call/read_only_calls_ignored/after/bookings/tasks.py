import requests
from celery import shared_task

from .clients import partner_client
from .models import Reservation


@shared_task
def refresh_status(reservation_id):
    reservation = Reservation.objects.get(pk=reservation_id)
    reservation.status = partner_client.get_booking(reservation.booking_ref)["status"]
    reservation.lock_id = requests.get(f"https://locks.example.com/rooms/{reservation.room}").json()["lock"]
    reservation.save()
