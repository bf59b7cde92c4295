from celery import shared_task

from .mailbox import move_message
from .models import Processed


@shared_task
def file_message(uid):
    try:
        move_message(uid)
        Processed.objects.create(uid=uid, status="SUCCESS")
    except Exception as error:
        Processed.objects.create(uid=uid, status="FAILED", error=str(error))
        raise
