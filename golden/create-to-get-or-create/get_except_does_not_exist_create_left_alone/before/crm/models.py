from django.db import models


class Company(models.Model):
    domain = models.CharField(max_length=120, unique=True)


class Contact(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contacts")
    email = models.EmailField()
    full_name = models.CharField(max_length=150)
