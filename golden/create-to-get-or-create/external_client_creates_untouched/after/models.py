from django.db import models


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True)
    total_cents = models.PositiveIntegerField()
    customer_phone = models.CharField(max_length=20)
    stripe_customer_id = models.CharField(max_length=40)
    stripe_charge_id = models.CharField(max_length=40, blank=True)
