from django.db import models


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True)


class StockHold(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="stock_holds")
    sku = models.CharField(max_length=32)
    expires_at = models.DateTimeField()
