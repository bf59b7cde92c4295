from celery import shared_task

from bookings import notifications
from bookings.models import Booking


@shared_task
def confirm_booking(booking_id):
    booking = Booking.objects.select_related("guest").get(pk=booking_id)
    booking.status = Booking.Status.CONFIRMED
    if booking.confirmation_email_sent:
        return
    booking.save(update_fields=["status"])
    notifications.send_confirmation_email(booking)
    Booking.objects.filter(pk=booking.pk).update(confirmation_email_sent=True)
