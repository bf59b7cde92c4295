from celery import shared_task
from django.db import transaction

from .models import Customer
from .services import Checkout, create_order_with_line


@shared_task
def place_order(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    with transaction.atomic():
        order = create_order_with_line(customer, sku)
    return order.pk


@shared_task
def checkout(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    checkout = Checkout(customer)
    with transaction.atomic():
        checkout.run(sku)
