from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.mail import send_mail


@shared_task
def send_host_welcome_email(user_id: int) -> None:
    user = get_user_model().objects.get(pk=user_id)
    password = get_user_model().objects.make_random_password()
    user.set_password(password)
    user.save()
    send_mail("Welcome", f"Your password: {password}", "noreply@example.com", [user.email])
