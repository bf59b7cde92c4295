"""Booking service: the create's result is kept on the service instance."""
from djproject.faults import crash_point
from bookings.models import Booking, Guest, Room


class BookingService:
    def __init__(self):
        self.booking = None

    def confirm(self, guest: Guest, room: Room) -> Booking:
        self.booking = Booking.objects.create(guest=guest, room=room, status="CONFIRMED")
        crash_point("after_create")
        return self.booking
