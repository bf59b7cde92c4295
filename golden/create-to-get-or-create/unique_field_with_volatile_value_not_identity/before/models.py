from django.db import models


class Supplier(models.Model):
    name = models.CharField(max_length=100)


class ReplenishmentRequest(models.Model):
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT)
    sku = models.CharField(max_length=32)
    quantity = models.PositiveIntegerField()


class PurchaseOrder(models.Model):
    reference = models.CharField(max_length=16, unique=True)
    request = models.OneToOneField(ReplenishmentRequest, on_delete=models.PROTECT, null=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT)
    requested_qty = models.PositiveIntegerField()
