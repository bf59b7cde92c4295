from celery import shared_task

from .models import Customer, Order, OrderLine


@shared_task
def place_order(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    # idem-fix: ignore[atomic-multi-create]
    order = Order.objects.create(customer=customer)
    OrderLine.objects.create(order=order, sku=sku)


@shared_task
def place_sample(customer_id):  # idem-fix: ignore[atomic-multi-create]
    customer = Customer.objects.get(pk=customer_id)
    order = Order.objects.create(customer=customer)
    OrderLine.objects.create(order=order, sku="SAMPLE")
