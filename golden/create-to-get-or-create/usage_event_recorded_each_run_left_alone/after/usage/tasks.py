from celery import shared_task

from .models import UsageEvent, Workspace


@shared_task
def record_scheduled_export(workspace_id):
    workspace = Workspace.objects.get(pk=workspace_id)
    UsageEvent.objects.create(workspace=workspace, name="export", properties={"source": "schedule"})
