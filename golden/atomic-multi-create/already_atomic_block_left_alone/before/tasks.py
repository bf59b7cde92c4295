from celery import shared_task
from django.db import transaction

from .models import Customer, Order, OrderLine


@shared_task
def place_order(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    with transaction.atomic():
        order = Order.objects.create(customer=customer)
        OrderLine.objects.create(order=order, sku=sku)
    return order.pk


@shared_task
def place_order_on_replica(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    with transaction.atomic(using="default", savepoint=False):
        if sku:
            order = Order.objects.create(customer=customer)
            OrderLine.objects.create(order=order, sku=sku)
