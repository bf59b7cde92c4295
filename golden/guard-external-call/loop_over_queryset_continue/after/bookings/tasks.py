from celery import shared_task

from .models import Reservation
from .partner_api import create_booking


@shared_task
def book_pending():
    booked = 0
    for reservation in Reservation.objects.filter(status="PENDING"):
        if reservation.booking_ref:
            continue
        reservation.status = "BOOKING"
        reservation.save()
        reservation.booking_ref = create_booking(reservation.room)["ref"]
        reservation.status = "BOOKED"
        reservation.save()
        booked += 1
    return booked
