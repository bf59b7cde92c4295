from django.db import models


class Booking(models.Model):
    class EmailStatus(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    guest_email = models.EmailField()
    email_status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING)
