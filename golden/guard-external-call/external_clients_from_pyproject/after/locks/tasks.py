import lockbox
from celery import shared_task

from .models import Reservation


@shared_task
def reserve_lock(reservation_id):
    reservation = Reservation.objects.get(pk=reservation_id)
    if reservation.lock_booking_id:
        return
    reservation.lock_booking_id = lockbox.reserve(reservation.lock_id)
    reservation.save()
