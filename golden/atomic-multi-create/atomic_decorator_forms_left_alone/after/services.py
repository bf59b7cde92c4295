from django.db import transaction
from django.db.transaction import atomic

from .models import Order, OrderLine


@transaction.atomic
def create_order(customer, sku):
    order = Order.objects.create(customer=customer)
    OrderLine.objects.create(order=order, sku=sku)
    return order


@atomic
def create_backorder(customer, sku):
    order = Order.objects.create(customer=customer, status="BACKORDER")
    OrderLine.objects.create(order=order, sku=sku)
    return order


@transaction.atomic()
def create_sample(customer):
    order = Order.objects.create(customer=customer, status="SAMPLE")
    OrderLine.objects.create(order=order, sku="SAMPLE")


@transaction.atomic(using="default")
def create_gift(customer):
    order = Order.objects.create(customer=customer, status="GIFT")
    OrderLine.objects.create(order=order, sku="GIFT")
