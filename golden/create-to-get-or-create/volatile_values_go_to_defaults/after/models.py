from django.db import models


class Partner(models.Model):
    name = models.CharField(max_length=100)


class ApiCredential(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="credentials")
    environment = models.CharField(max_length=10)  # "sandbox" | "live"
    key_id = models.UUIDField()
    client_ref = models.CharField(max_length=36)
    secret = models.CharField(max_length=64)
    issued_at = models.DateTimeField()

    class Meta:
        unique_together = ("partner", "environment")
