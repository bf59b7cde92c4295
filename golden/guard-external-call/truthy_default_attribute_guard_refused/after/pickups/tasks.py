from celery import shared_task

from .clients import carrier_client
from .models import Shipment


@shared_task
def schedule_pickup(shipment_id):
    shipment = Shipment.objects.get(pk=shipment_id)
    result = carrier_client.schedule_pickup(address=shipment.address, weight_grams=shipment.weight_grams)
    shipment.pickup_confirmation = result["confirmation"]
    shipment.save(update_fields=["pickup_confirmation"])
