from django.db import models


class Calendar(models.Model):
    provider_id = models.CharField(max_length=64, unique=True)


class Appointment(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="appointments")
    provider_appointment_id = models.CharField(max_length=128)
    title = models.CharField(max_length=255)
    starts_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["calendar", "provider_appointment_id"], name="appointment_calendar_provider_uniq"),
        ]
