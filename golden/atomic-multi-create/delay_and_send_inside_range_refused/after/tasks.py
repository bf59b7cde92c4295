from celery import shared_task
from django.core.mail import send_mail

from .models import Customer, Order, OrderLine


@shared_task
def notify_warehouse(order_id):
    pass


@shared_task
def place_order(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    order = Order.objects.create(customer=customer)
    send_mail("Order placed", f"Order {order.pk}", "shop@example.com", ["ops@example.com"])
    notify_warehouse.delay(order.pk)
    OrderLine.objects.create(order=order, sku=sku)
    notify_warehouse.delay(order.pk)  # after the range: runs after the commit, fine
