from django.conf import settings
from django.db import models


class Document(models.Model):
    title = models.CharField(max_length=200)
    archived = models.BooleanField(default=False)


class AuditLog(models.Model):
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="audit_log")
    action = models.CharField(max_length=40)
    at = models.DateTimeField(auto_now_add=True)
