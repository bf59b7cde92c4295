from django.db import models


class Cart(models.Model):
    customer_email = models.EmailField()
    items = models.JSONField(default=list)


class Order(models.Model):
    customer_email = models.EmailField()


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=32)
    quantity = models.PositiveIntegerField(default=1)
