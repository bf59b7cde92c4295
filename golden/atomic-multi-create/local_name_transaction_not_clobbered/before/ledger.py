from celery import shared_task

from .models import Customer, Order, OrderLine

transaction = "module-level name, not django's"


@shared_task
def book(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    if Order.objects.filter(customer=customer).exists():
        return
    order = Order.objects.create(customer=customer, status=transaction)
    OrderLine.objects.create(order=order, sku=sku)
