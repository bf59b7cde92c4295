from django.db import models


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    placed_at = models.DateTimeField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=24, unique=True)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    issued_on = models.DateField()
