import datetime

from celery import shared_task

from .models import Invoice, Order


@shared_task
def issue_invoice(order_id):
    order = Order.objects.get(pk=order_id)
    invoice, _ = Invoice.objects.get_or_create(
        number=f"INV-{order.number}",
        defaults={
            "order": order,
            "total": order.total,
            "issued_on": order.placed_at.date(),
        },
    )
    return invoice.number
