from django.db import models


class Quote(models.Model):
    client_email = models.EmailField()
    total = models.DecimalField(max_digits=10, decimal_places=2)
    sent_at = models.DateTimeField(null=True, blank=True)
