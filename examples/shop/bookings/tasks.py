import secrets

from celery import shared_task

from bookings.models import Guest, Reservation


@shared_task
def reserve_room(guest_id: int, room: str) -> int:
    guest = Guest.objects.get(pk=guest_id)
    reservation = Reservation.objects.create(guest=guest, room=room, status="CONFIRMED")
    return reservation.pk


@shared_task
def issue_access_code(reservation_id: int, lock_id: str) -> str:
    reservation = Reservation.objects.get(pk=reservation_id)
    access = reservation.codes.create(lock_id=lock_id, code=secrets.token_hex(3))
    return access.code


@shared_task
def cancel_stale_reservations() -> int:
    deleted, _ = Reservation.objects.filter(status="PENDING").delete()
    return deleted
