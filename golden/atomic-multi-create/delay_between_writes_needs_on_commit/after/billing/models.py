from django.db import models


class Account(models.Model):
    name = models.CharField(max_length=100)
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=0)


class Invoice(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT)
    period = models.CharField(max_length=7)
    total = models.DecimalField(max_digits=12, decimal_places=2)


class LedgerEntry(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
