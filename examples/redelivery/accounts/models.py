from django.conf import settings
from django.db import models


class Host(models.Model):
    """A flat owner with a login, invited by the team."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="host")
    display_name = models.CharField(max_length=100)
