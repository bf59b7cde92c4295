from django.db import models


class Wallet(models.Model):
    owner_email = models.EmailField(unique=True)


class LedgerEntry(models.Model):
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    external_id = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    memo = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wallet", "external_id"], name="ledger_entry_wallet_external_uniq"),
        ]
