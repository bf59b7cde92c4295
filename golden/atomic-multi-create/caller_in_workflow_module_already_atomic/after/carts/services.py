from .models import Order, OrderLine


def create_order_from_cart(cart):
    order = Order.objects.create(customer_email=cart.customer_email)
    OrderLine.objects.bulk_create(
        [OrderLine(order=order, sku=item["sku"], quantity=item["qty"]) for item in cart.items]
    )
    return order
