from django.db import models


class Invoice(models.Model):
    number = models.CharField(max_length=24, unique=True)
    customer_email = models.EmailField()
    due_on = models.DateField()


class Reminder(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE)
    stage = models.CharField(max_length=12)  # "first" | "second" | "final"
    sent_to = models.EmailField()

    class Meta:
        unique_together = ("invoice", "stage")
