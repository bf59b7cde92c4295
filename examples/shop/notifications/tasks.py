from celery import shared_task
from django.core.mail import send_mail
from slack_sdk import WebClient

from bookings.models import Guest, Reservation


@shared_task
def send_onboarding_email(guest_id: int) -> None:
    guest = Guest.objects.get(pk=guest_id)
    send_mail("Welcome aboard", "Here is how your stay works.", "hello@example.com", [guest.email])


@shared_task
def alert_ops_on_slack(text: str) -> None:
    WebClient(token="xoxb-example").chat_postMessage(channel="#ops", text=text)


@shared_task
def purge_cancelled_reservations() -> None:
    Reservation.objects.filter(status="CANCELLED").delete()
