from celery import shared_task
from django.core.mail import send_mail

from digest.models import EmailLog, Subscriber


@shared_task
def send_monthly_digest(subscriber_id, period):
    subscriber = Subscriber.objects.select_related("user").get(pk=subscriber_id)
    if EmailLog.objects.filter(user=subscriber.user, kind="digest", period=period).exists():
        return
    send_mail(f"Your {period} digest", "...", None, [subscriber.user.email])
    EmailLog.objects.create(user=subscriber.user, kind="digest", period=period)


@shared_task
def send_annual_summary(subscriber_id, year):
    subscriber = Subscriber.objects.select_related("user").get(pk=subscriber_id)
    _log, created = EmailLog.objects.get_or_create(user=subscriber.user, kind="summary", period=str(year))
    if not created:
        return
    send_mail(f"Your {year} summary", "...", None, [subscriber.user.email])
