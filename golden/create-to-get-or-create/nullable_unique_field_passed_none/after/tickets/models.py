from django.db import models


class Event(models.Model):
    name = models.CharField(max_length=120)
    starts_at = models.DateTimeField()


class Ticket(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tickets")
    holder_email = models.EmailField()
    # Set by the box office when the ticket is issued; empty until then.
    barcode = models.CharField(max_length=32, unique=True, null=True, blank=True)
