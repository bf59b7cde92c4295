from celery import shared_task

from .models import MailRedirection
from .ovh import get_ovh_client


@shared_task
def create_mail_redirection(redirection_id, domain):
    redirection = MailRedirection.objects.get(pk=redirection_id)
    if redirection.ovh_task_id:
        return

    def _create():
        client = get_ovh_client()
        return client.post(
            f"/email/domain/{domain}/redirection",
            _from=redirection.source,
            to=redirection.target,
            localCopy=False,
        )

    result = _create()
    redirection.ovh_task_id = str(result["id"])
    redirection.save()
