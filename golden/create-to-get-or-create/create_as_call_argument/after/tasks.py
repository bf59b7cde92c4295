from celery import shared_task
from django.template.loader import render_to_string

from .models import Reply, Ticket
from .notify import push_to_helpdesk


@shared_task
def send_auto_acknowledgement(ticket_id):
    ticket = Ticket.objects.get(pk=ticket_id)
    body = render_to_string("support/ack.txt", {"ticket": ticket})
    push_to_helpdesk(Reply.objects.get_or_create(ticket=ticket, kind="auto_ack", defaults={"body": body})[0], channel="email")
