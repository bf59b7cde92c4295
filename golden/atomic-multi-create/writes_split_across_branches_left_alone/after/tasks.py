from celery import shared_task

from .models import Customer, Order, OrderLine


@shared_task
def place_order(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    if sku:
        OrderLine.objects.create(order=customer.orders.first(), sku=sku)
    else:
        Order.objects.create(customer=customer)


@shared_task
def place_sample(customer_id, kind):
    customer = Customer.objects.get(pk=customer_id)
    if kind == "gift":
        Order.objects.create(customer=customer, status="GIFT")
        return
    Order.objects.create(customer=customer, status="SAMPLE")
