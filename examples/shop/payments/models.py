from django.db import models


class Account(models.Model):
    owner = models.ForeignKey("auth.User", on_delete=models.CASCADE)
    iban = models.CharField(max_length=34)


class Payout(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payouts")
    period = models.CharField(max_length=7)  # "2026-11"
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reference = models.CharField(max_length=40)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "period"], name="uniq_payout_account_period"),
        ]


class Invoice(models.Model):
    number = models.CharField(max_length=20, unique=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT)
    total = models.DecimalField(max_digits=12, decimal_places=2)


class PaymentEvent(models.Model):
    """Append-only: one row per attempt is the point."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT)
    kind = models.CharField(max_length=20)


class ExchangeRate(models.Model):
    currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=12, decimal_places=6)
    fetched_at = models.DateTimeField()
