import traceback

from celery import shared_task

from .models import Folder, ImportedMessage


@shared_task
def import_message(folder_id, uid):
    folder = Folder.objects.get(pk=folder_id)
    try:
        fetch_and_store(folder, uid)
        ImportedMessage.objects.create(folder=folder, uid=uid, status="SUCCESS")
    except Exception:
        ImportedMessage.objects.create(folder=folder, uid=uid, status="FAILED", error=traceback.format_exc())
        raise


def fetch_and_store(folder, uid):
    return folder, uid


def already_imported(folder, uid):
    return ImportedMessage.objects.filter(folder=folder, uid=uid).exists()
