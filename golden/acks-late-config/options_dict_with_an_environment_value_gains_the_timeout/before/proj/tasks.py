from celery import shared_task


@shared_task(time_limit=4 * 60 * 60)
def rebuild_search_index():
    return "done"
