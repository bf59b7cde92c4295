from .models import Customer, Order, OrderLine


def place_order_view(request, customer_id, sku):
    customer = Customer.objects.get(pk=customer_id)
    order = Order.objects.create(customer=customer)
    OrderLine.objects.create(order=order, sku=sku)
