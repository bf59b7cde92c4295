from django.db import models


class Workspace(models.Model):
    name = models.CharField(max_length=80)


class Tag(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE)
    slug = models.SlugField()
    label = models.CharField(max_length=60)


class Document(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE)
    title = models.CharField(max_length=200)
    tags = models.ManyToManyField(Tag, blank=True)
