from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """The project's user (AUTH_USER_MODEL = "accounts.User")."""

    phone = models.CharField(max_length=20, blank=True)
