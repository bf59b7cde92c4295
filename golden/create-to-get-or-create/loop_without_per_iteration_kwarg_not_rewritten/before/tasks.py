from celery import shared_task

from .models import Ticket, TicketOrder


@shared_task
def issue_tickets(order_id):
    order = TicketOrder.objects.select_related("event").get(pk=order_id)
    for _ in range(order.quantity):
        Ticket.objects.create(order=order, event=order.event, tier="general")


@shared_task
def has_ticket(order_id, event_id):
    return Ticket.objects.filter(order_id=order_id, event_id=event_id).exists()
