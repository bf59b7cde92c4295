from datetime import timedelta

from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone

from .models import Article, Subscriber


@shared_task
def queue_weekly_digests():
    for subscriber_id in Subscriber.objects.values_list("pk", flat=True):
        send_weekly_digest.delay(subscriber_id)


@shared_task
def send_weekly_digest(subscriber_id):
    subscriber = Subscriber.objects.get(pk=subscriber_id)
    since = timezone.now() - timedelta(days=7)
    articles = Article.objects.filter(topic__in=subscriber.topics, published_at__gte=since)
    if not articles:
        return
    body = "\n".join(article.title for article in articles)
    send_mail("Your week in review", body, None, [subscriber.email])
