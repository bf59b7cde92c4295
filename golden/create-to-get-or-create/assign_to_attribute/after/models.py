from django.db import models


class Shipment(models.Model):
    tracking_number = models.CharField(max_length=40)


class Label(models.Model):
    shipment = models.OneToOneField(Shipment, on_delete=models.CASCADE, related_name="label")
    carrier = models.CharField(max_length=20)
    pdf_url = models.URLField()
