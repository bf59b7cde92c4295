from django.db import models


class MailRedirection(models.Model):
    source = models.EmailField()
    target = models.EmailField()
    ovh_task_id = models.CharField(max_length=40, blank=True, default="")
