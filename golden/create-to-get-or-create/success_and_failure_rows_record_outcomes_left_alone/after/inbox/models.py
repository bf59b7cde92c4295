from django.db import models


class Folder(models.Model):
    name = models.CharField(max_length=100)


class ImportedMessage(models.Model):
    folder = models.ForeignKey(Folder, on_delete=models.CASCADE)
    uid = models.CharField(max_length=64)
    status = models.CharField(max_length=10)
    error = models.TextField(blank=True)
