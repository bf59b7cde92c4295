from celery import shared_task

from bookings.models import AccessCode, Reservation
from integrations.clients import get_ovh_client, keyless_client_wrapper, partner_client


@shared_task
def create_lock_access_code(reservation_id: int, lock_id: str) -> None:
    reservation = Reservation.objects.get(pk=reservation_id)
    response = keyless_client_wrapper.create_access_code(lock_id, "2026-12-01", "2026-12-03")
    code = reservation.codes.get(lock_id=lock_id)
    code.code = response["code"]
    code.save()


@shared_task
def book_with_partner(reservation_id: int) -> None:
    reservation = Reservation.objects.get(pk=reservation_id)
    response = partner_client.create_booking(data={"room": reservation.room, "guest": reservation.guest.email})
    if response and response.get("success"):
        reservation.booking_ref = response.get("bookingRefNumber")
        reservation.save()


@shared_task
def create_mail_redirection(domain: str, source: str, target: str) -> None:
    client = get_ovh_client()
    client.post(f"/email/domain/{domain}/redirection", **{"from": source, "to": target, "localCopy": False})


@shared_task
def sync_access_codes(reservation_id: int, codes: dict) -> None:
    for lock_id, code in codes.items():
        AccessCode.objects.update_or_create(reservation_id=reservation_id, lock_id=lock_id, defaults={"code": code})
