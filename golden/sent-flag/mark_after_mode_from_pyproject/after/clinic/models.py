from django.db import models


class Appointment(models.Model):
    patient_name = models.CharField(max_length=100)
    patient_phone = models.CharField(max_length=20)
    starts_at = models.DateTimeField()
