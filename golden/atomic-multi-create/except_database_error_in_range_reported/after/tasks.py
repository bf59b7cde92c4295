from celery import shared_task
from django.db import IntegrityError

from .models import Customer, Order, OrderLine


@shared_task
def place_order(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    order = Order.objects.create(customer=customer)
    try:
        OrderLine.objects.create(order=order, sku=sku)
    except IntegrityError:
        order.status = "BROKEN"
    order.save()
