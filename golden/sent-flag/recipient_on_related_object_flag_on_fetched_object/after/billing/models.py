from django.db import models


class Customer(models.Model):
    email = models.EmailField()


class Invoice(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT)
    number = models.CharField(max_length=20, unique=True)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    email_sent = models.BooleanField(default=False)
