from django.db import models


class Account(models.Model):
    iban = models.CharField(max_length=34)


class Payout(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payouts")
    period = models.CharField(max_length=7)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    channel = models.CharField(max_length=10)
