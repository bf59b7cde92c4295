from celery import shared_task

from .models import Customer, Order


@shared_task
def place_order(customer_id):
    customer = Customer.objects.get(pk=customer_id)
    order = Order.objects.create(customer=customer)
    return order.pk


@shared_task
def place_orders(customer_id, count):
    customer = Customer.objects.get(pk=customer_id)
    for _ in range(count):
        Order.objects.create(customer=customer)
