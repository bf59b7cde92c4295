"""Bookings: models with a composite identity (unique_together) and with none at all."""
from django.conf import settings
from django.db import models


class Guest(models.Model):
    name = models.CharField(max_length=100)


class Room(models.Model):
    number = models.CharField(max_length=10, unique=True)


class Booking(models.Model):
    """No unique constraint: a duplicate is a second row, and nothing in the database stops it."""

    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="bookings")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="bookings")
    status = models.CharField(max_length=12, default="PENDING")


class Order(models.Model):
    reference = models.CharField(max_length=32, unique=True)


class OrderLine(models.Model):
    """Created through the related manager `order.lines`; unique per (order, sku)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=32)
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        unique_together = ("order", "sku")


class Notification(models.Model):
    """Told apart only by its user and a literal kind; no constraint."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32)
    read = models.BooleanField(default=False)
