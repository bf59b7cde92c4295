from celery import shared_task
from django.core.mail import send_mail

from hosts.models import Host


@shared_task
def send_host_welcome_email(host_id):
    host = Host.objects.get(pk=host_id)
    send_mail("Welcome", "Glad to have you.", None, [host.email])
