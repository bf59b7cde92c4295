from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    pending_email = models.EmailField(blank=True)
    email_change_code = models.CharField(max_length=6, blank=True)
