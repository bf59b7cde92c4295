import stripe
from celery import shared_task

from .models import Order, Refund


@shared_task
def refund_order(order_id, amount_cents):
    order = Order.objects.get(pk=order_id)
    refund = Refund.objects.create(order=order, amount_cents=amount_cents)
    result = stripe.Refund.create(payment_intent=order.payment_intent, amount=amount_cents)
    refund.stripe_refund_id = result.id
    refund.save(update_fields=["stripe_refund_id"])


@shared_task
def refund_shipping(order_id, amount_cents):
    order = Order.objects.get(pk=order_id)
    refund = Refund(order=order, amount_cents=amount_cents)
    refund.save()
    result = stripe.Refund.create(payment_intent=order.payment_intent, amount=amount_cents)
    refund.stripe_refund_id = result.id
    refund.save(update_fields=["stripe_refund_id"])
