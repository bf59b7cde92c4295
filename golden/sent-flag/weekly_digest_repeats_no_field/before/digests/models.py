from django.db import models


class Subscriber(models.Model):
    email = models.EmailField(unique=True)
    topics = models.JSONField(default=list)


class Article(models.Model):
    topic = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    published_at = models.DateTimeField()
