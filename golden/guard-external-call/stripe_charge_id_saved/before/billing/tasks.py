import stripe
from celery import shared_task

from .models import Payment


@shared_task(bind=True, max_retries=3)
def charge_payment(self, payment_id):
    payment = Payment.objects.get(pk=payment_id)
    charge = stripe.Charge.create(amount=payment.amount_cents, currency="eur", customer=payment.customer)
    payment.stripe_charge_id = charge.id
    payment.save(update_fields=["stripe_charge_id"])
