from celery import shared_task

from .models import AuditLog, Document


@shared_task
def archive_document(document_id, actor_id=None):
    document = Document.objects.get(pk=document_id)
    document.archived = True
    document.save(update_fields=["archived"])
    AuditLog.objects.create(actor_id=actor_id, document=document, action="archived")
