import requests
from celery import shared_task
from django.conf import settings

from .models import FulfilmentRequest, Order, Shipment


@shared_task
def send_to_warehouse(order_id, skus):
    order = Order.objects.get(pk=order_id)
    request = FulfilmentRequest.objects.create(order=order, skus=skus)
    response = requests.post(settings.WAREHOUSE_URL, json={"order": order.pk, "skus": skus}, timeout=15)
    response.raise_for_status()
    Shipment.objects.create(order=order, request=request, warehouse_ref=response.json()["ref"])
