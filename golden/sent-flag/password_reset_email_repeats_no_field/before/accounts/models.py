from django.db import models


class Customer(models.Model):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    password_reset_token = models.CharField(max_length=64, blank=True)
