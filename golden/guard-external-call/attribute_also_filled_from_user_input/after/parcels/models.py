from django.db import models


class Parcel(models.Model):
    recipient = models.TextField()
    reference = models.CharField(max_length=40, blank=True)
