from django.db import models


class MailRule(models.Model):
    host = models.CharField(max_length=120)
    folder = models.CharField(max_length=120, default="INBOX")


class ProcessedMail(models.Model):
    rule = models.ForeignKey(MailRule, on_delete=models.CASCADE, related_name="processed")
    folder = models.CharField(max_length=120)
    uid = models.CharField(max_length=64)
