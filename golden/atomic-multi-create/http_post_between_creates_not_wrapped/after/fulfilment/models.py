from django.db import models


class Order(models.Model):
    customer_email = models.EmailField()


class FulfilmentRequest(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    skus = models.JSONField()


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    request = models.OneToOneField(FulfilmentRequest, on_delete=models.CASCADE)
    warehouse_ref = models.CharField(max_length=40)
