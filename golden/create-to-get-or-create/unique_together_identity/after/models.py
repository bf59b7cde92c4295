from django.db import models


class Customer(models.Model):
    email = models.EmailField(unique=True)


class Plan(models.Model):
    code = models.SlugField(unique=True)
    monthly_price = models.DecimalField(max_digits=8, decimal_places=2)


class Subscription(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT)
    seats = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField()

    class Meta:
        unique_together = ("customer", "plan")
