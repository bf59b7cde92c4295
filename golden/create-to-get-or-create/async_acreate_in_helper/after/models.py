from django.db import models


class Device(models.Model):
    serial = models.CharField(max_length=32, unique=True)


class Reading(models.Model):
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="readings")
    taken_at = models.DateTimeField()
    celsius = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "taken_at"], name="reading_device_time_uniq"),
        ]
