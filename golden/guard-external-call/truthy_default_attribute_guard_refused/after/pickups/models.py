from django.db import models


class Shipment(models.Model):
    address = models.TextField()
    weight_grams = models.PositiveIntegerField()
    pickup_confirmation = models.CharField(max_length=32, default="PENDING")
