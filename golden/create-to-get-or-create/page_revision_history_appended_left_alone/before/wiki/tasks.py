from celery import shared_task

from .models import Page


@shared_task
def publish_page(page_id, published_by):
    page = Page.objects.get(pk=page_id)
    page.published_body = page.body
    page.save(update_fields=["published_body"])
    page.revisions.create(body=page.body, published_by=published_by)
