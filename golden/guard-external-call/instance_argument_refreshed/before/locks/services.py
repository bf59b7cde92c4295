from .clients import lock_api


def book_lock(reservation):
    """Book the smart lock for a reservation the caller loaded."""
    response = lock_api.book(lock_id=reservation.lock_id, room=reservation.room)
    reservation.lock_booking_id = response["id"]
    reservation.save(update_fields=["lock_booking_id"])
    return reservation.lock_booking_id
