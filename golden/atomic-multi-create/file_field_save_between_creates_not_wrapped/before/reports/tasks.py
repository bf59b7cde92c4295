from celery import shared_task
from django.core.files.base import ContentFile

from .models import AuditEntry, Report, ReportArchive


@shared_task
def archive_report(report_id, csv_text):
    report = Report.objects.get(pk=report_id)
    archive = ReportArchive.objects.create(report=report)
    archive.file.save(f"report-{report.pk}.csv", ContentFile(csv_text.encode()))
    AuditEntry.objects.create(report=report, action="archived")
