from django.conf import settings
from django.db import models


class Expense(models.Model):
    submitter_email = models.EmailField()
    description = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=10, decimal_places=2)


class Approval(models.Model):
    expense = models.ForeignKey(Expense, on_delete=models.CASCADE)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)


class Reimbursement(models.Model):
    expense = models.ForeignKey(Expense, on_delete=models.CASCADE)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
