from django.db import models


class Reservation(models.Model):
    room = models.CharField(max_length=10)
    lock_id = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(max_length=20, default="PENDING")
    booking_ref = models.CharField(max_length=40, blank=True, default="")
    lock_booking_id = models.CharField(max_length=40, blank=True, default="")
