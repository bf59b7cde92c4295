from .celery_app import app
from .models import Delivery, Issue, Subscriber


def record_delivery(issue_number, subscriber_id, provider_message_id):
    issue = Issue.objects.get(number=issue_number)
    subscriber = Subscriber.objects.get(pk=subscriber_id)
    Delivery.objects.create(issue=issue, subscriber=subscriber, provider_message_id=provider_message_id)


record_delivery_task = app.task(record_delivery, name="newsletter.record_delivery")
