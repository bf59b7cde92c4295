from django.db import models


class Repository(models.Model):
    full_name = models.CharField(max_length=200, unique=True)


class Release(models.Model):
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="releases")
    tag = models.CharField(max_length=100)
    notes = models.TextField(blank=True)
    published_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "tag"], name="release_repository_tag_uniq"),
        ]
