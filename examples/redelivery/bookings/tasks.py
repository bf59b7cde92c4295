from celery import shared_task

from bookings.locks import lock_client
from bookings.models import Reservation
from config.hang import hang_point


@shared_task
def book_smart_lock(reservation_id: int) -> str:
    reservation = Reservation.objects.get(pk=reservation_id)
    booking = lock_client.create_booking(
        lock_id=reservation.lock_id,
        guest=reservation.guest_name,
        starts_on=reservation.starts_on.isoformat(),
        ends_on=reservation.ends_on.isoformat(),
    )
    reservation.lock_booking_id = booking["id"]
    reservation.status = "LOCK_BOOKED"
    reservation.save(update_fields=["lock_booking_id", "status"])
    hang_point("book_smart_lock")  # the vendor booked the lock; the message is not acked yet
    return booking["id"]
