from django.conf import settings
from django.db import models


class Notice(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    topic = models.CharField(max_length=40)
    title = models.CharField(max_length=120)

    class Meta:
        unique_together = ("user", "topic")
