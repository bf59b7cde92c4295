import logging

from celery import shared_task

from . import keyless_client_wrapper
from .models import Reservation

logger = logging.getLogger(__name__)


@shared_task
def create_keyless_booking(reservation_id):
    reservation = Reservation.objects.get(pk=reservation_id)

    # The partner answers {"success": true, "bookingRefNumber": "..."}
    response = keyless_client_wrapper.create_booking(data={"room": reservation.room, "lock": reservation.lock_id})
    if response and response.get("success"):
        reservation.booking_ref = response.get("bookingRefNumber")
        reservation.save()
    else:
        logger.warning("keyless booking failed for reservation %s", reservation_id)
