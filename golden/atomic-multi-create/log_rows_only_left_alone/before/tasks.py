from celery import shared_task

from .models import EditLog, Tile


@shared_task
def restore_tile(tile_id, old_data):
    tile = Tile.objects.get(pk=tile_id)
    opened = EditLog(tile=tile, kind="restore started")
    opened.save()
    EditLog.objects.create(tile=tile, kind="restored", old=old_data)
