from celery import shared_task

from .models import Event, Ticket


@shared_task
def reserve_ticket(event_id, holder_email):
    event = Event.objects.get(pk=event_id)
    ticket = Ticket.objects.create(event=event, holder_email=holder_email, barcode=None)
    return ticket.pk
