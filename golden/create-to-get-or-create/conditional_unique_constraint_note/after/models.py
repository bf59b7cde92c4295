from django.db import models
from django.db.models import Q


class Booking(models.Model):
    reference = models.CharField(max_length=12, unique=True)
    seat_count = models.PositiveSmallIntegerField()


class SeatHold(models.Model):
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="holds")
    status = models.CharField(max_length=10, default="active")  # active | released | expired
    seats = models.PositiveSmallIntegerField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["booking"],
                condition=Q(status="active"),
                name="one_active_hold_per_booking",
            ),
        ]
