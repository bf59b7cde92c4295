from celery import shared_task

from .models import Reservation
from .services import book_lock


@shared_task
def book_smart_lock(reservation_id):
    reservation = Reservation.objects.get(pk=reservation_id)
    return book_lock(reservation)


@shared_task(serializer="pickle")
def book_smart_lock_for(reservation):
    """The message carries the instance itself, as it was when the task was queued."""
    response = lock_api_call(reservation)
    reservation.lock_booking_id = response["id"]
    reservation.save()


def lock_api_call(reservation):
    from .clients import lock_api

    return lock_api.book(lock_id=reservation.lock_id, room=reservation.room)
