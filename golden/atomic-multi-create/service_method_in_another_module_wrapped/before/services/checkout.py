"""Checkout service."""

from ..models import Order


class Checkout:
    def __init__(self, customer):
        self.customer = customer

    def run(self, skus):
        if Order.objects.filter(customer=self.customer).exists():
            return None
        order = Order.objects.create(customer=self.customer)
        for sku in skus:
            order.lines.create(sku=sku)
        order.status = "PLACED"
        order.save()
        return order
