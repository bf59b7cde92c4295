from django.db import models


class Order(models.Model):
    payment_intent = models.CharField(max_length=64)
    total_cents = models.PositiveIntegerField()


class Refund(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.PositiveIntegerField()
    stripe_refund_id = models.CharField(max_length=64, blank=True)
