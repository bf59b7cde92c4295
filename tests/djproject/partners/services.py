"""Lock booking service: the external call and the saved reference live in a method, on `self.reservation`."""
from djproject.faults import crash_point
from partners.models import Reservation
from partners.partner_client import LockAPI


class LockBookingService:
    def __init__(self, reservation: Reservation):
        self.reservation = reservation
        self.api = LockAPI()

    def book(self) -> Reservation:
        result = self.api.book(lock_id=self.reservation.lock_id, room=self.reservation.room)
        self.reservation.lock_booking_id = result["id"]
        self.reservation.save(update_fields=["lock_booking_id"])
        crash_point("after_save")
        return self.reservation
