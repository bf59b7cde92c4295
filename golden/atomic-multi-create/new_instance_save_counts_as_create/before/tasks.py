from celery import shared_task

from .models import Customer, Order


@shared_task
def open_order(customer_id):
    customer = Customer.objects.get(pk=customer_id)
    order = Order(customer=customer)
    order.save()
    customer.balance -= 5
    customer.save(update_fields=["balance"])
    return order.pk
