from decimal import Decimal

from django.conf import settings
from django.db import models


class Wallet(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallets")
    currency = models.CharField(max_length=3)
    opened_at = models.DateTimeField()


class LedgerEntry(models.Model):
    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=20)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
