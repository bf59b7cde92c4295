from celery import shared_task
from django.core.mail import send_mail

from .models import Order, OrderLine


@shared_task
def send_order_confirmation(order_id):
    order = Order.objects.get(pk=order_id)
    lines = "\n".join(f"{line.quantity} x {line.sku}" for line in order.lines.all())
    send_mail("Order confirmed", lines, None, [order.customer_email])


@shared_task
def place_order(customer_email, items):
    order = Order.objects.create(customer_email=customer_email)
    for item in items:
        OrderLine.objects.create(order=order, sku=item["sku"], quantity=item["qty"])
