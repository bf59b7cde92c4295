import secrets
from datetime import timedelta

from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone

from .models import LoginCode


@shared_task
def email_login_code(email):
    login_code = LoginCode.objects.create(
        email=email,
        code=secrets.token_hex(4),
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    send_mail("Your login code", login_code.code, None, [email])
