from celery import shared_task

from .clients import partner_client
from .models import Reservation


@shared_task
def book_rooms(reservation_id, rooms):
    reservation = Reservation.objects.get(pk=reservation_id)
    for room in rooms:
        response = partner_client.create_booking(room=room)
        reservation.booking_ref = response["reference"]
        reservation.save()
