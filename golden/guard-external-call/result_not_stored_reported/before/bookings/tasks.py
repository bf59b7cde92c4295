import logging

import requests
from celery import shared_task

from .clients import partner_client
from .models import Reservation

logger = logging.getLogger(__name__)


@shared_task
def cancel_at_partner(reservation_id):
    reservation = Reservation.objects.get(pk=reservation_id)
    availability = requests.get("https://partner.example.com/rooms", params={"room": reservation.room}).json()
    response = partner_client.cancel_booking(reservation.booking_ref)
    logger.info("cancelled %s: %s (%s)", reservation.booking_ref, response, availability)
    reservation.status = "CANCELLED"
    reservation.save()
