import datetime

from celery import shared_task

from .models import Merchant, Settlement


@shared_task
def record_settlement(merchant_id, batch_date, payload):
    merchant = Merchant.objects.get(pk=merchant_id)
    day = datetime.date.fromisoformat(batch_date)
    Settlement.objects.create(merchant=merchant, batch_date=day, **payload)
