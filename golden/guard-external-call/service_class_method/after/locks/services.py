from .gateway import PartnerGateway


class LockBookingService:
    def __init__(self, reservation):
        self.reservation = reservation
        self.api = PartnerGateway()

    def book(self):
        self.reservation.refresh_from_db(fields=["lock_booking_id"])
        if self.reservation.lock_booking_id:
            return self.reservation
        payload = {"lock": self.reservation.lock_id, "room": self.reservation.room}
        result = self.api.post("/bookings", json=payload)
        self.reservation.lock_booking_id = result["bookingId"]
        self.reservation.status = "LOCKED"
        self.reservation.save()
        return self.reservation
