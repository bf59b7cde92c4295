from django.db import models


class Invoice(models.Model):
    number = models.CharField(max_length=24, unique=True)
    customer_email = models.EmailField()
    sent_at = models.DateTimeField(null=True, blank=True)


class InvoiceEmail(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="emails")
    recipient = models.EmailField()
    template = models.CharField(max_length=40)
