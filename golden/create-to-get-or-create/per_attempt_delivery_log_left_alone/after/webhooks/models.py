from django.db import models


class Endpoint(models.Model):
    url = models.URLField()


class Delivery(models.Model):
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    error = models.TextField(blank=True)
    attempted_at = models.DateTimeField(auto_now_add=True)
