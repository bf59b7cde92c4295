import secrets

from celery import shared_task
from django.core.mail import send_mail

from accounts.models import Host
from config.hang import hang_point


@shared_task
def send_host_welcome_email(host_id: int) -> None:
    host = Host.objects.select_related("user").get(pk=host_id)
    password = secrets.token_urlsafe(12)
    host.user.set_password(password)
    host.user.save(update_fields=["password"])
    send_mail(
        "Welcome to the host portal",
        f"Hello {host.display_name},\n\nlog in as {host.user.username} with the password: {password}\n",
        "noreply@example.com",
        [host.user.email],
    )
    hang_point("send_host_welcome_email")  # the email is out; the message is not acked yet
