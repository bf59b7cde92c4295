from django.db import models


class Loan(models.Model):
    borrower_email = models.EmailField()
    principal = models.DecimalField(max_digits=12, decimal_places=2)


class Installment(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="installments")
    status = models.CharField(max_length=16, default="scheduled")
    due_date = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
