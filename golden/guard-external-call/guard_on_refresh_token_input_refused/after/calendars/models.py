from django.db import models


class CalendarIntegration(models.Model):
    user_email = models.EmailField()
    refresh_token = models.TextField(blank=True)
