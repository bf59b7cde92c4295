"""Onboarding: a host is a user who rents out rooms; their welcome email carries a fresh password."""
from django.conf import settings
from django.db import models


class Host(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="host")
    display_name = models.CharField(max_length=100)
