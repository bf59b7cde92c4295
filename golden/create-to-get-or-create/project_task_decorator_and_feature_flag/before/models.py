from django.db import models


class Customer(models.Model):
    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)

    def points_for(self, quarter):
        return sum(self.purchases.filter(quarter=quarter).values_list("points", flat=True))


class LoyaltyStatement(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="loyalty_statements")
    quarter = models.CharField(max_length=7)  # "2026-Q1"
    points = models.IntegerField()

    class Meta:
        unique_together = [["customer", "quarter"]]
