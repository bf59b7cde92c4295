from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def send_confirmation_email(booking):
    message = EmailMultiAlternatives(
        subject=f"Booking {booking.reference} confirmed",
        body=render_to_string("bookings/confirmed.txt", {"booking": booking}),
        to=[booking.guest.email],
    )
    message.attach_alternative(render_to_string("bookings/confirmed.html", {"booking": booking}), "text/html")
    message.send()
