from django.db import transaction
from celery import shared_task

from .models import Customer, Order, OrderLine


@shared_task
def place_order(customer_id, skus):
    customer = Customer.objects.get(pk=customer_id)
    if Order.objects.filter(customer=customer).exists():
        return
    with transaction.atomic():
        order = Order.objects.create(customer=customer)
        for sku in skus:
            OrderLine.objects.create(order=order, sku=sku)
    return order.pk
