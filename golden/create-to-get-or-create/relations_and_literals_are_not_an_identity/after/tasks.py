from celery import shared_task

from .models import Order, Refund


@shared_task
def refund_cancelled_order(order_id, requested_by):
    order = Order.objects.get(pk=order_id)
    refund = Refund.objects.create(
        order=order,
        reason="order_cancelled",
        amount=order.total,
        requested_by=requested_by,
    )
    return refund.pk
