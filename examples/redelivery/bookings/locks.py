"""The smart-lock vendor's API client.

A stand-in for an HTTP client (`requests.post("https://api.locks.example/bookings", ...)`): the
vendor's side is a journal file under STATE_DIR, one line per booking the vendor made, so that
what the vendor saw survives the worker's death. Like real payment and booking APIs, the vendor
honours an optional idempotency key: a second call with the same key returns the first booking.
"""
import secrets

from config import journal

VENDOR_JOURNAL = "lock_vendor"


class SmartLockClient:
    def create_booking(self, lock_id: str, guest: str, starts_on: str, ends_on: str,
                       idempotency_key: str | None = None) -> dict:
        if idempotency_key:
            for booking in journal.read(VENDOR_JOURNAL):
                if booking.get("idempotency_key") == idempotency_key:
                    return booking
        booking = {
            "id": f"bk_{secrets.token_hex(6)}",
            "lock_id": lock_id,
            "guest": guest,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "code": f"{secrets.randbelow(10**6):06d}",  # the door code the guest gets
            "idempotency_key": idempotency_key,
        }
        journal.append(VENDOR_JOURNAL, booking)
        return booking


lock_client = SmartLockClient()
