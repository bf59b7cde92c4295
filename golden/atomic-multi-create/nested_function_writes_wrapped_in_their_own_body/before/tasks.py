from celery import shared_task

from .models import Customer, Order, OrderLine


@shared_task
def place_orders(customer_id, skus):
    customer = Customer.objects.get(pk=customer_id)

    def place(sku):
        if Order.objects.filter(customer=customer, status=sku).exists():
            return None
        order = Order.objects.create(customer=customer, status=sku)
        OrderLine.objects.create(order=order, sku=sku)
        return order

    return [order.pk for order in map(place, skus) if order]


@shared_task
def place_order_with_note(customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    if Order.objects.filter(customer=customer).exists():
        return None
    order = Order.objects.create(customer=customer)

    def describe(line):
        return f"{line.sku} x{line.quantity}"

    line = OrderLine.objects.create(order=order, sku=sku)
    return describe(line)
