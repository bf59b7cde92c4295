from celery import shared_task
from django.core.cache import caches, cache
from django.core.mail import send_mail

from hosts.models import Host

stats = caches["stats"]


@shared_task
def send_host_welcome_email(host_id):
    host = Host.objects.select_related("user").get(pk=host_id)
    if send_host_welcome_email.request.id and cache.get(f"sent-flag:hosts.tasks.send_host_welcome_email:{send_host_welcome_email.request.id}"):
        return
    send_mail("Welcome", "Glad to have you.", None, [host.user.email])
    if send_host_welcome_email.request.id:
        cache.set(f"sent-flag:hosts.tasks.send_host_welcome_email:{send_host_welcome_email.request.id}", True, timeout=60 * 60 * 24 * 7)
    stats.incr("welcome_emails")
