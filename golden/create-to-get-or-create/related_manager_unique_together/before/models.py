from django.db import models


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True)
    cart = models.JSONField(default=dict)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=32)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        unique_together = ("order", "sku")
