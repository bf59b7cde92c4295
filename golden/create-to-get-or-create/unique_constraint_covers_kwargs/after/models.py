from django.conf import settings
from django.db import models


class Account(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    iban = models.CharField(max_length=34)


class Payout(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payouts")
    period = models.CharField(max_length=7)  # "2026-11"
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "period"], name="payout_account_period_uniq"),
        ]
