import stripe
from celery import shared_task
from django.conf import settings
from twilio.rest import Client

from .models import Order


@shared_task
def charge_order(order_id):
    order = Order.objects.get(pk=order_id)
    charge = stripe.Charge.create(
        amount=order.total_cents,
        currency="eur",
        customer=order.stripe_customer_id,
        idempotency_key=f"charge-{order.number}",
    )
    order.stripe_charge_id = charge.id
    order.save(update_fields=["stripe_charge_id"])


@shared_task
def text_order_confirmation(order_id):
    order = Order.objects.get(pk=order_id)
    client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
    client.messages.create(to=order.customer_phone, from_=settings.TWILIO_FROM, body=f"Order {order.number} confirmed")
