from celery import shared_task
from django.core.mail import send_mail

from hosts.models import Host


@shared_task
def send_host_approval_email(host_id):
    Host.objects.filter(pk=host_id).update(display_name="Approved host")
    host = Host.objects.select_related("user").get(pk=host_id)
    send_mail("You are approved", "Welcome.", None, [host.user.email])
