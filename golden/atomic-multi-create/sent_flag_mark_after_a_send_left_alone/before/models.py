from django.db import models


class Account(models.Model):
    email = models.EmailField()
    welcome_sent = models.BooleanField(default=False)
    reminder_sent = models.BooleanField(default=False)


class AuditLog(models.Model):
    message = models.CharField(max_length=200)
