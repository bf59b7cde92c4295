from django.db import models


class ExchangeRate(models.Model):
    base = models.CharField(max_length=3)
    currency = models.CharField(max_length=3)
    value = models.DecimalField(max_digits=18, decimal_places=8)
    fetched_at = models.DateTimeField()

    class Meta:
        unique_together = ("base", "currency")
