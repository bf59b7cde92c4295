from celery import shared_task

from .models import Order, OrderStatusChange


@shared_task
def move_order(order_id, new_status):
    order = Order.objects.get(pk=order_id)
    previous = order.status
    order.status = new_status
    order.save(update_fields=["status"])
    OrderStatusChange.objects.create(order=order, from_status=previous, to_status=new_status)
