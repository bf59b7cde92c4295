from django.db import models


class Payment(models.Model):
    amount_cents = models.PositiveIntegerField()
    customer = models.CharField(max_length=40)
    stripe_charge_id = models.CharField(max_length=40, blank=True, default="")
