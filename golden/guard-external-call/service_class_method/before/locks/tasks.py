from celery import shared_task

from .models import Reservation
from .services import LockBookingService


@shared_task
def book_lock(reservation_id):
    reservation = Reservation.objects.get(pk=reservation_id)
    LockBookingService(reservation).book()
