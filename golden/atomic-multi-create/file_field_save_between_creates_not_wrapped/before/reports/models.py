from django.db import models


class Report(models.Model):
    title = models.CharField(max_length=200)


class ReportArchive(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="archives")
    file = models.FileField(upload_to="report-archives/")


class AuditEntry(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE)
    action = models.CharField(max_length=40)
