from django.db import models


class Guest(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField()


class Booking(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING"
        CONFIRMED = "CONFIRMED"

    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="bookings")
    reference = models.CharField(max_length=12, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
