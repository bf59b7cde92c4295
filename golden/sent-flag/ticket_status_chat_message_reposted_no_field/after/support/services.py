from .tasks import post_ticket_status


def change_status(ticket, status):
    ticket.status = status
    ticket.save(update_fields=["status"])
    post_ticket_status.delay(ticket.pk)
