from django.db import models


class Workspace(models.Model):
    name = models.CharField(max_length=80)
    monthly_exports = models.PositiveIntegerField(default=20)


class UsageEvent(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="usage_events")
    name = models.CharField(max_length=40)
    properties = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(auto_now_add=True)
