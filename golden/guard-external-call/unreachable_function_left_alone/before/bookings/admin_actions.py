from .clients import partner_client
from .models import Reservation


def book_from_admin(reservation_id):
    """Called from a Django admin action, never from a task."""
    reservation = Reservation.objects.get(pk=reservation_id)
    response = partner_client.create_booking(room=reservation.room)
    reservation.booking_ref = response["reference"]
    reservation.save()
