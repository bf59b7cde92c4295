from django.db import models


class Tenant(models.Model):
    slug = models.SlugField(unique=True)


class Invitation(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20)

    class Meta:
        unique_together = ("tenant", "email")
