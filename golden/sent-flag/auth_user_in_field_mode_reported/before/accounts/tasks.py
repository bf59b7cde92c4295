"""Account emails."""
from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage


@shared_task
def send_password_changed_email(user_id):
    user = get_user_model().objects.get(pk=user_id)
    EmailMessage(
        "Your password was changed",
        "If this was not you, contact support.",
        to=[user.email],
    ).send()
