from celery import shared_task

from .clients import carrier_client
from .models import Parcel


@shared_task
def book_parcel(parcel_id):
    parcel = Parcel.objects.get(pk=parcel_id)
    booking = carrier_client.book(recipient=parcel.recipient)
    parcel.reference = booking["tracking_number"]
    parcel.save(update_fields=["reference"])
