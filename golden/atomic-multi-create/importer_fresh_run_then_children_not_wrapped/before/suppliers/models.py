from django.db import models


class Supplier(models.Model):
    feed_url = models.URLField()


class ImportRun(models.Model):
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE)
    started_at = models.DateTimeField(auto_now_add=True)


class Product(models.Model):
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="products")
    sku = models.CharField(max_length=32)


class Price(models.Model):
    product = models.OneToOneField(Product, on_delete=models.CASCADE)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
