from smtplib import SMTPException

from celery import shared_task
from firebase_admin import messaging
from post_office import mail

from orders.models import Order


@shared_task(bind=True, autoretry_for=(SMTPException,), max_retries=3)
def send_order_shipped_notice(self, order_id):
    order = Order.objects.select_related("customer").get(pk=order_id)
    if order.shipped_notice_sent:
        return
    mail.send(order.customer.email, "shop@example.com", subject=f"Order {order.number} shipped")
    if order.customer.fcm_token:
        messaging.send(messaging.Message(token=order.customer.fcm_token, data={"order": order.number}))
    Order.objects.filter(pk=order.pk).update(shipped_notice_sent=True)
