from celery import shared_task as st
from django.utils.dateparse import parse_datetime

from .models import Release, Repository


@st(autoretry_for=(ConnectionError,), retry_backoff=True)
def import_release(repository_name, payload):
    repository = Repository.objects.get(full_name=repository_name)
    Release.objects.get_or_create(
        repository=repository,
        tag=payload["tag_name"],
        defaults={
            "notes": payload.get("body") or "",
            "published_at": parse_datetime(payload["published_at"]),
        },
    )
