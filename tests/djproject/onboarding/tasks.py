"""Onboarding tasks. The welcome task resets the host's password, then emails it: run twice, it sends
two emails and the first one's password no longer works. The checklist task hands itself to a helper
that retries a dropped mail connection: a retry keeps the task id."""
from contextlib import contextmanager
from smtplib import SMTPServerDisconnected

from celery import shared_task
from django.core.mail import send_mail
from django.utils.crypto import get_random_string

from djproject.faults import crash_point, disconnect_point
from onboarding.models import Host


@shared_task
def send_host_welcome_email(host_id):
    """Shape: a credential change before the send; the email goes to the host's user."""
    host = Host.objects.select_related("user").get(pk=host_id)
    user = host.user
    password = get_random_string(16)
    user.set_password(password)
    user.save(update_fields=["password"])
    crash_point("after_reset")
    send_mail(
        "Welcome to the platform",
        f"Hello {host.display_name}, your password: {password}",
        "noreply@example.com",
        [user.email],
    )
    crash_point("after_send")


@contextmanager
def retried_when_disconnected(task):
    try:
        yield
    except SMTPServerDisconnected as error:
        raise task.retry(exc=error, countdown=0, max_retries=3)


@shared_task(bind=True)
def send_host_checklist_email(self, host_id):
    """Shape: a send retried by a helper the task hands itself to; a retry keeps the task id."""
    host = Host.objects.select_related("user").get(pk=host_id)
    with retried_when_disconnected(self):
        disconnect_point("checklist", self.request.retries)
        send_mail("Your first-week checklist", f"Hello {host.display_name}", "noreply@example.com", [host.user.email])
    crash_point("after_checklist")
