from django.conf import settings
from django.db import models


class EmailLog(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    kind = models.CharField(max_length=20)
    period = models.CharField(max_length=7)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "period"], name="one_email_per_period")]


class Subscriber(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
