from celery import shared_task
from django.core.mail import send_mail

from .models import Booking


@shared_task
def send_booking_confirmation(booking_id):
    booking = Booking.objects.get(pk=booking_id)
    if booking.email_status == Booking.EmailStatus.SENT:
        return
    send_mail("Booking confirmed", "See you soon.", None, [booking.guest_email])
    booking.email_status = Booking.EmailStatus.SENT
    booking.save(update_fields=["email_status"])
