"""Partner tasks. Each one calls an external system and saves the reference it answers with; a
redelivery calls it again: a second booking at the partner, a second lock booking, a second mail
redirection."""
import logging

from celery import shared_task

from djproject.faults import crash_point
from partners import partner_client
from partners.models import MailRedirection, Reservation
from partners.partner_client import LockAPI, get_ovh_client
from partners.services import LockBookingService

logger = logging.getLogger(__name__)
lock_api = LockAPI()


@shared_task
def book_reservation(reservation_id):
    """Shape: the audit's case. A status save comes first, then the call; the guard must precede both."""
    reservation = Reservation.objects.get(pk=reservation_id)
    reservation.status = "BOOKING"
    reservation.save(update_fields=["status"])

    response = partner_client.create_booking(data={"room": reservation.room})
    if response and response.get("success"):
        reservation.booking_ref = response.get("bookingRefNumber")
        reservation.status = "BOOKED"
        reservation.save()
    else:
        logger.warning("partner booking failed for reservation %s", reservation_id)
    crash_point("after_save")
    return reservation.booking_ref


@shared_task
def book_lock(reservation_id):
    """Shape: the call in a service class method, saved on `self.reservation`."""
    reservation = Reservation.objects.get(pk=reservation_id)
    LockBookingService(reservation).book()
    return reservation.pk


@shared_task(serializer="pickle")
def book_lock_for(reservation):
    """Shape: the message carries the instance itself, as it was when the task was queued: the guard
    must read the saved row, not this stale copy."""
    result = lock_api.book(lock_id=reservation.lock_id, room=reservation.room)
    reservation.lock_booking_id = result["id"]
    reservation.save(update_fields=["lock_booking_id"])
    crash_point("after_save")


@shared_task
def create_mail_redirection(redirection_id, domain="example.com"):
    """Shape: a nested helper makes the call and returns its result; the task saves the id."""
    redirection = MailRedirection.objects.get(pk=redirection_id)

    def _create():
        client = get_ovh_client()
        return client.post(f"/email/domain/{domain}/redirection", _from=redirection.source, to=redirection.target)

    result = _create()
    redirection.ovh_id = str(result["id"])
    redirection.save()
    crash_point("after_save")


@shared_task
def cancel_reservation(reservation_id):
    """Shape: the answer is not stored anywhere. Not rewritten: the rule reports what would make it safe."""
    reservation = Reservation.objects.get(pk=reservation_id)
    response = partner_client.cancel_booking(reservation.booking_ref)
    logger.info("cancelled %s: %s", reservation.booking_ref, response)
    crash_point("after_call")
