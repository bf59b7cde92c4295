from celery import shared_task

from .models import Customer
from .services.checkout import Checkout


@shared_task
def checkout(customer_id, skus):
    customer = Customer.objects.get(pk=customer_id)
    return Checkout(customer).run(skus).pk
