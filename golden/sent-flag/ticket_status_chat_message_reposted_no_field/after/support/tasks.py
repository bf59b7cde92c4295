from celery import shared_task
from django.conf import settings
from slack_sdk import WebClient

from .models import Ticket


@shared_task
def post_ticket_status(ticket_id):
    ticket = Ticket.objects.get(pk=ticket_id)
    client = WebClient(token=settings.SLACK_BOT_TOKEN)
    client.chat_postMessage(
        channel=ticket.slack_channel,
        text=f"Ticket #{ticket.pk} ({ticket.subject}) is now {ticket.status}",
    )
