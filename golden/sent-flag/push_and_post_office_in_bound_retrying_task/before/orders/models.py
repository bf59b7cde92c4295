from django.db import models


class Customer(models.Model):
    email = models.EmailField()
    fcm_token = models.CharField(max_length=255, blank=True)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    number = models.CharField(max_length=20)

    class Meta:
        ordering = ["-id"]
