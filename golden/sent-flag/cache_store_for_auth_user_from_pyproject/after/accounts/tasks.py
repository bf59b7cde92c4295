"""Account emails."""
from django.core.cache import cache
from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage


@shared_task
def send_password_changed_email(user_id):
    user = get_user_model().objects.get(pk=user_id)
    if send_password_changed_email.request.id and not cache.add(f"sent-flag:accounts.tasks.send_password_changed_email:{send_password_changed_email.request.id}", True, timeout=60 * 60 * 24 * 7):
        return
    EmailMessage(
        "Your password was changed",
        "If this was not you, contact support.",
        to=[user.email],
    ).send()
