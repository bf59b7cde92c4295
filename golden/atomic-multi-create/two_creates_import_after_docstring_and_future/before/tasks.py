"""Order tasks: an order and its first line."""
from __future__ import annotations

import logging

from celery import shared_task

from .models import Customer, Order, OrderLine

logger = logging.getLogger(__name__)


@shared_task
def place_order(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    if Order.objects.filter(customer=customer).exists():
        return
    logger.info("placing an order for %s", customer)

    # the order first, then its line
    order = Order.objects.create(customer=customer)  # row one
    OrderLine.objects.create(
        order=order,
        sku=sku,
    )

    logger.info("placed %s", order.pk)
    return order.pk
