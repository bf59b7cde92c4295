from celery import shared_task
from django.core.mail import send_mail

from shop.models import Order


@shared_task
def send_receipt(order_id):
    order = Order.objects.get(pk=order_id)
    if order.receipt_sent:
        return
    send_mail("Your receipt", "Thank you for your order.", None, [order.email])
    Order.objects.filter(pk=order.pk).update(receipt_sent=True)
