from django.db import models


class Reservation(models.Model):
    guest_name = models.CharField(max_length=100)
    lock_id = models.CharField(max_length=40)  # the smart lock on the flat's door
    starts_on = models.DateField()
    ends_on = models.DateField()
    status = models.CharField(max_length=20, default="CONFIRMED")
    lock_booking_id = models.CharField(max_length=40, blank=True, default="")
