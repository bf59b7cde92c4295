from django.db import models


class Webinar(models.Model):
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    meeting_id = models.CharField(max_length=40, blank=True)
