"""Partners: rows that keep the reference an external system gave back for them."""
from django.db import models


class Reservation(models.Model):
    room = models.CharField(max_length=10)
    lock_id = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(max_length=20, default="PENDING")
    booking_ref = models.CharField(max_length=40, blank=True, default="")  # the partner's booking
    lock_booking_id = models.CharField(max_length=40, blank=True, default="")  # the smart lock's booking


class MailRedirection(models.Model):
    source = models.EmailField()
    target = models.EmailField()
    ovh_id = models.CharField(max_length=40, blank=True, default="")
