from django.db import models


class Guest(models.Model):
    email = models.EmailField()


class Reservation(models.Model):
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="reservations")
    room = models.CharField(max_length=10)
    status = models.CharField(max_length=20, default="PENDING")
    booking_ref = models.CharField(max_length=40, blank=True)


class AccessCode(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="codes")
    lock_id = models.CharField(max_length=40)
    code = models.CharField(max_length=10)

    class Meta:
        unique_together = [("reservation", "lock_id")]
