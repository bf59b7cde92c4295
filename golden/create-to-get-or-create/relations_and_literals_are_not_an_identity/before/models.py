from django.db import models


class Order(models.Model):
    customer_email = models.EmailField()
    total = models.DecimalField(max_digits=12, decimal_places=2)
    cancelled_at = models.DateTimeField(null=True, blank=True)


class Refund(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    reason = models.CharField(max_length=32)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    requested_by = models.CharField(max_length=64, blank=True)
