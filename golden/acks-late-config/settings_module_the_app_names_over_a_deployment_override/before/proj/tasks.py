from celery import shared_task


@shared_task
def rebuild_search_index():
    return "done"
