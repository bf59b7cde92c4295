from celery import shared_task
from django.utils.text import slugify

from .models import Document, Tag


@shared_task
def tag_document(document_id, label):
    document = Document.objects.get(pk=document_id)
    slug = slugify(label)
    tag = Tag.objects.filter(workspace=document.workspace, slug=slug).first()
    if tag is None:
        tag = Tag.objects.create(workspace=document.workspace, slug=slug, label=label)
    document.tags.add(tag)
