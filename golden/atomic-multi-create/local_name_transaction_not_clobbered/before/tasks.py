"""Card transactions become orders."""
from celery import shared_task

from .models import Customer, Order, OrderLine


@shared_task
def book_card_transaction(customer_id, transaction):
    customer = Customer.objects.get(pk=customer_id)
    if Order.objects.filter(customer=customer).exists():
        return
    order = Order.objects.create(customer=customer, status=transaction["status"])
    OrderLine.objects.create(order=order, sku=transaction["sku"])


@shared_task
def book_refund(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    if Order.objects.filter(customer=customer).exists():
        return
    order = Order.objects.create(customer=customer, status="REFUND")
    OrderLine.objects.create(order=order, sku=sku)
