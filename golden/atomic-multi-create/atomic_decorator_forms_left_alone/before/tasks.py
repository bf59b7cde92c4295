from celery import shared_task
from django.db import transaction

from .models import Customer, Order, OrderLine
from .services import create_backorder, create_gift, create_order, create_sample


@shared_task
def place_orders(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    create_order(customer, sku)
    create_backorder(customer, sku)
    create_sample(customer)
    create_gift(customer)


@shared_task
@transaction.atomic
def place_order_atomically(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    order = Order.objects.create(customer=customer)
    OrderLine.objects.create(order=order, sku=sku)
