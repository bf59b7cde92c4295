from celery import shared_task

from .models import Customer, Order, OrderLine


def place_orders(customer, skus):
    order = Order.objects.create(customer=customer)
    yield order
    for sku in skus:
        yield OrderLine.objects.create(order=order, sku=sku)


@shared_task
def place(customer_id, skus):
    customer = Customer.objects.get(pk=customer_id)
    return [o.pk for o in place_orders(customer, skus)]
