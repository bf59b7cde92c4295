from django.db import models


class Host(models.Model):
    slack_channel = models.CharField(max_length=80)


class Payout(models.Model):
    host = models.ForeignKey(Host, on_delete=models.PROTECT)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
