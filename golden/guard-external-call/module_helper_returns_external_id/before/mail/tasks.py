from celery import shared_task

from .models import MailRedirection
from .redirections import create_redirection


@shared_task
def redirect_mail(redirection_id, domain="example.com"):
    redirection = MailRedirection.objects.get(pk=redirection_id)
    redirection.ovh_redirection_id = create_redirection(domain, redirection.source, redirection.target)
    redirection.save()
    return redirection.pk
