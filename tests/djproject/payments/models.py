"""Payments: the identity of a payout or an invoice is declared by a database constraint."""
from django.db import models


class Account(models.Model):
    name = models.CharField(max_length=100, unique=True)


class Payout(models.Model):
    """One payout per account and period: the UniqueConstraint is its identity."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        SENT = "SENT"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="payouts")
    period = models.CharField(max_length=7)  # "2024-05"
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reference = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "period"], name="uniq_payout_account_period"
            ),
        ]


class Invoice(models.Model):
    """Identified by its number alone (unique=True)."""

    number = models.CharField(max_length=32, unique=True)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    memo = models.CharField(max_length=200, blank=True, default="")
