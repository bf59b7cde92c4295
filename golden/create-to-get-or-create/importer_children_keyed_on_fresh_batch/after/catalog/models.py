from django.db import models


class ImportBatch(models.Model):
    source = models.CharField(max_length=255)
    started_at = models.DateTimeField(auto_now_add=True)


class Product(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="products")
    sku = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        unique_together = ("batch", "sku")
