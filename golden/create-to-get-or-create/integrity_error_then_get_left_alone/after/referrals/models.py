from django.conf import settings
from django.db import models


class Referral(models.Model):
    referrer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    invitee_email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["referrer", "invitee_email"], name="one_referral_per_invitee"),
        ]
