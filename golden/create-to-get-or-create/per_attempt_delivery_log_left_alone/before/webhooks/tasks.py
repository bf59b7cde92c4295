import requests
from celery import shared_task

from .models import Delivery, Endpoint


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def deliver_webhook(self, endpoint_id, event_id, payload):
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    try:
        response = requests.post(endpoint.url, json=payload, timeout=10)
    except requests.RequestException as exc:
        Delivery.objects.create(endpoint=endpoint, event_id=event_id, error=str(exc))
        raise self.retry(exc=exc)
    Delivery.objects.create(endpoint=endpoint, event_id=event_id, status_code=response.status_code)


def attempts(endpoint, event_id):
    return Delivery.objects.filter(endpoint=endpoint, event_id=event_id).order_by("attempted_at")
