from celery import shared_task

from .clients import partner_client
from .models import Reservation


@shared_task
def book_at_partner(reservation_id):
    reservation = Reservation.objects.get(pk=reservation_id)
    if reservation.booking_ref:
        return reservation.booking_ref
    response = partner_client.create_booking(room=reservation.room)
    reservation.booking_ref = response["reference"]
    reservation.save()
    return reservation.booking_ref


@shared_task
def book_lock(reservation_id):
    reservation = Reservation.objects.get(pk=reservation_id)
    if not reservation.lock_booking_id:
        response = partner_client.book_lock(lock=reservation.lock_id)
        reservation.lock_booking_id = response["id"]
        reservation.save()
