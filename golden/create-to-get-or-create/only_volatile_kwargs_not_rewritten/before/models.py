from django.db import models


class LoginCode(models.Model):
    email = models.EmailField(db_index=True)
    code = models.CharField(max_length=8)
    expires_at = models.DateTimeField()
