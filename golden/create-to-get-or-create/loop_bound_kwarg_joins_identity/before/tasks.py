from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .models import Order, StockHold


@shared_task
def hold_stock(order_id, items):
    order = Order.objects.get(pk=order_id)
    expires_at = timezone.now() + timedelta(minutes=30)
    for item in items:
        StockHold.objects.create(order=order, sku=item["sku"], expires_at=expires_at)


@shared_task
def release_hold(order_id, sku):
    hold = StockHold.objects.filter(order_id=order_id, sku=sku).first()
    if hold is not None:
        hold.delete()
