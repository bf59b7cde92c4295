from celery import shared_task

from .models import Ticket, TicketMessage


@shared_task
def open_ticket_from_email(sender_email, subject, body):
    ticket = Ticket.objects.create(requester_email=sender_email, subject=subject)
    TicketMessage.objects.create(ticket=ticket, body=body)
