from django.db import models


class Processed(models.Model):
    uid = models.CharField(max_length=64)
    status = models.CharField(max_length=16)
    error = models.TextField(blank=True)
