import uuid
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .models import DownloadLink, Export


@shared_task
def issue_download_link(export_id):
    export = Export.objects.get(pk=export_id)
    expires_at = timezone.now() + timedelta(days=7)
    link = DownloadLink.objects.create(export=export, token=uuid.uuid4(), expires_at=expires_at)
    return str(link.token)
