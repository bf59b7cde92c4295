from django.db import models


class Ticket(models.Model):
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=20, default="open")
    slack_channel = models.CharField(max_length=80, default="#support")
