import secrets

from celery import shared_task
from django.core.mail import send_mail

from .models import Customer


@shared_task
def send_password_reset_email(customer_id):
    customer = Customer.objects.get(pk=customer_id)
    customer.password_reset_token = secrets.token_urlsafe(32)
    customer.save(update_fields=["password_reset_token"])
    send_mail(
        "Reset your password",
        f"Choose a new password: https://shop.example.com/reset/{customer.password_reset_token}/",
        None,
        [customer.email],
    )
