from django.db import models


class Host(models.Model):
    email = models.EmailField()
    welcome_email_sent = models.BooleanField(default=False)  # set by the admin import; no task checks it
