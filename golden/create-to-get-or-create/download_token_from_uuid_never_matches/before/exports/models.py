import uuid

from django.db import models


class Export(models.Model):
    owner_email = models.EmailField()
    file = models.FileField(upload_to="exports/")


class DownloadLink(models.Model):
    export = models.ForeignKey(Export, on_delete=models.CASCADE, related_name="links")
    token = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    expires_at = models.DateTimeField()
