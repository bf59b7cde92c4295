from django.db import models


class Tile(models.Model):
    data = models.JSONField(default=dict)


class EditLog(models.Model):
    tile = models.ForeignKey(Tile, on_delete=models.CASCADE)
    kind = models.CharField(max_length=16)
    old = models.JSONField(null=True)
