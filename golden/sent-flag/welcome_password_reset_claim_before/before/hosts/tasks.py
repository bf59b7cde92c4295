from celery import shared_task
from django.core.mail import send_mail
from django.utils.crypto import get_random_string

from .models import Host


@shared_task
def send_host_welcome_email(host_id):
    host = Host.objects.select_related("user").get(pk=host_id)
    if not host.user.email:
        return  # nothing to send to
    password = get_random_string(16)
    # The host signs in with this password the first time.
    host.user.set_password(password)
    host.user.save(update_fields=["password"])
    send_mail(
        "Welcome aboard",
        f"Your password: {password}",
        "noreply@example.com",
        [host.user.email],
    )
