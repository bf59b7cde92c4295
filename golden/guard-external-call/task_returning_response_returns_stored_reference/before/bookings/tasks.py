import httpx
from celery import shared_task

from .models import Reservation


@shared_task
def book_room(reservation_id):
    reservation = Reservation.objects.get(pk=reservation_id)
    response = httpx.post("https://partner.example.com/bookings", json={"room": reservation.room})
    data = response.json()
    reservation.booking_ref = data["ref"]
    reservation.save()
    return data


@shared_task
def book_room_summary(reservation_id):
    reservation = Reservation.objects.get(pk=reservation_id)
    ref = httpx.post("https://partner.example.com/bookings", json={"room": reservation.room}).json()["ref"]
    reservation.booking_ref = ref
    reservation.save()
    return {"reservation": reservation.pk, "ref": ref}
