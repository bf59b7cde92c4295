from .models import UsageEvent


def exports_left(workspace):
    used = UsageEvent.objects.filter(workspace=workspace, name="export").count()
    return workspace.monthly_exports - used
