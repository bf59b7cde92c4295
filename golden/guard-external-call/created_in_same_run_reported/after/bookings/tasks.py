from celery import shared_task

from .clients import partner_client
from .models import Reservation


@shared_task
def reserve_and_book(room):
    reservation = Reservation.objects.create(room=room)
    response = partner_client.create_booking(room=room)
    reservation.booking_ref = response["reference"]
    reservation.save()
