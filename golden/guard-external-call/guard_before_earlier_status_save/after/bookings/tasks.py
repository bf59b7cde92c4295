from celery import shared_task

from .clients import partner_client
from .models import Reservation


@shared_task
def book_at_partner(reservation_id):
    """Mark the reservation as booking, then book it at the partner."""
    reservation = Reservation.objects.select_related().get(pk=reservation_id)
    if reservation.booking_ref:
        return
    reservation.status = "BOOKING"
    reservation.save(update_fields=["status"])

    response = partner_client.create_booking(room=reservation.room)
    reservation.booking_ref = response["reference"]
    reservation.status = "BOOKED"
    reservation.save()
