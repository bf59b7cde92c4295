import datetime

from celery import shared_task

from .models import Invoice, Order


@shared_task
def issue_invoice(order_id):
    order = Order.objects.get(pk=order_id)
    invoice = Invoice.objects.create(
        order=order,
        number=f"INV-{order.number}",
        total=order.total,
        issued_on=order.placed_at.date(),
    )
    return invoice.number
