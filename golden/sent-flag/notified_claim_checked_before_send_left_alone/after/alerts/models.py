from django.db import models


class StockAlert(models.Model):
    product_name = models.CharField(max_length=200)
    subscriber_email = models.EmailField()
    notified = models.BooleanField(default=False)
