from django.db import models


class Claim(models.Model):
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    limit = models.DecimalField(max_digits=10, decimal_places=2)


class Rejection(models.Model):
    claim = models.OneToOneField(Claim, on_delete=models.CASCADE)
    reason = models.CharField(max_length=200)


class Escalation(models.Model):
    claim = models.OneToOneField(Claim, on_delete=models.CASCADE)
    reviewer_group = models.CharField(max_length=40)


class Payment(models.Model):
    claim = models.OneToOneField(Claim, on_delete=models.CASCADE)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
