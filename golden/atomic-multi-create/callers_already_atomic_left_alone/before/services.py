from .models import Order, OrderLine


def create_order_with_line(customer, sku):
    order = Order.objects.create(customer=customer)
    OrderLine.objects.create(order=order, sku=sku)
    return order


class Checkout:
    def __init__(self, customer):
        self.customer = customer

    def run(self, sku):
        order = Order.objects.create(customer=self.customer)
        OrderLine.objects.create(order=order, sku=sku)
        return order
