from django.db import models


class Guest(models.Model):
    email = models.EmailField()
    welcome_sent_at = models.DateTimeField(null=True, blank=True)


class Stay(models.Model):
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE)
