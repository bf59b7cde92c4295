from django.db import models


class Warehouse(models.Model):
    code = models.CharField(max_length=8, unique=True)


class StockCount(models.Model):
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE)
    counted_on = models.DateField()
    item_count = models.PositiveIntegerField()

    class Meta:
        unique_together = [("warehouse", "counted_on")]
