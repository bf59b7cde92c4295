from celery import shared_task
from django.core.cache import caches
from django.core.mail import send_mail

from hosts.models import Host

stats = caches["stats"]


@shared_task
def send_host_welcome_email(host_id):
    host = Host.objects.select_related("user").get(pk=host_id)
    send_mail("Welcome", "Glad to have you.", None, [host.user.email])
    stats.incr("welcome_emails")
