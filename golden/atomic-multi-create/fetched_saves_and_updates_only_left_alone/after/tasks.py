from celery import shared_task

from .models import Customer, Order


@shared_task
def close_order(order_id):
    order = Order.objects.get(pk=order_id)
    order.status = "CLOSED"
    order.save()
    Customer.objects.filter(pk=order.customer_id).update(balance=0)
    order.lines.all().delete()
