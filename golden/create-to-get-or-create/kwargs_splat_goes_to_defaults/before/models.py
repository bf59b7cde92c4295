from django.db import models


class Merchant(models.Model):
    name = models.CharField(max_length=100)


class Settlement(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT)
    batch_date = models.DateField()
    gross = models.DecimalField(max_digits=14, decimal_places=2)
    fees = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "batch_date"], name="settlement_merchant_day_uniq"),
        ]
