from .gateway import PartnerGateway


class LockBookingService:
    def __init__(self, reservation):
        self.reservation = reservation
        self.api = PartnerGateway()

    def book(self):
        payload = {"lock": self.reservation.lock_id, "room": self.reservation.room}
        result = self.api.post("/bookings", json=payload)
        self.reservation.lock_booking_id = result["bookingId"]
        self.reservation.status = "LOCKED"
        self.reservation.save()
        return self.reservation
