from celery import shared_task
from django.db.models import F

from .models import Customer, Order, OrderLine


@shared_task
def reorder(order_id):
    order = Order.objects.get(pk=order_id)
    if Order.objects.filter(customer=order.customer, status="NEW").exists():
        return None
    copy = Order.objects.create(customer=order.customer, status="NEW")
    OrderLine.objects.bulk_create([OrderLine(order=copy, sku=line.sku) for line in order.lines.all()])
    Customer.objects.filter(pk=order.customer_id).update(balance=F("balance") - 10)
    order.lines.filter(quantity=0).delete()
    return copy.pk
