from django.db import models


class Page(models.Model):
    slug = models.SlugField(unique=True)
    body = models.TextField()
    published_body = models.TextField(blank=True)


class PageRevision(models.Model):
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    published_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
