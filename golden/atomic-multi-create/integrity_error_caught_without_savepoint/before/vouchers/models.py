from django.db import models


class Voucher(models.Model):
    code = models.CharField(max_length=20, unique=True)
    amount = models.DecimalField(max_digits=8, decimal_places=2)


class Order(models.Model):
    customer_email = models.EmailField()
    note = models.CharField(max_length=200, blank=True)


class Redemption(models.Model):
    voucher = models.OneToOneField(Voucher, on_delete=models.PROTECT)
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


class Discount(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    amount = models.DecimalField(max_digits=8, decimal_places=2)
