from django.db import transaction
from celery import shared_task

from .models import Customer, Order, OrderLine


@shared_task
def place_order(customer_id, skus):
    customer = Customer.objects.get(pk=customer_id)
    if Order.objects.filter(customer=customer).exists():
        return None
    with transaction.atomic():
        order = Order.objects.create(customer=customer)
        if not skus:
            return order.pk  # an empty order is fine: leaving the with-block commits it
        first, *rest = skus
        OrderLine.objects.create(order=order, sku=first, quantity=len(rest) + 1)
    return order.pk
