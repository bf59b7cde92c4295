from django.db import models


class Account(models.Model):
    name = models.CharField(max_length=100, unique=True)
    iban = models.CharField(max_length=34)


class Payout(models.Model):
    """One payout per account and period, by convention only: no constraint says so
    (pyproject.toml tells idem-fix the identity)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payouts")
    period = models.CharField(max_length=7)  # "2026-05"
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField()
