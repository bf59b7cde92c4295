from uuid import uuid4

from celery import shared_task

from .models import PurchaseOrder, ReplenishmentRequest


@shared_task
def place_purchase_order(request_id):
    request = ReplenishmentRequest.objects.select_related("supplier").get(pk=request_id)
    reference = f"PO-{uuid4().hex[:10]}"
    po = PurchaseOrder.objects.create(reference=reference, request=request, supplier=request.supplier, requested_qty=request.quantity)
    return po.reference
