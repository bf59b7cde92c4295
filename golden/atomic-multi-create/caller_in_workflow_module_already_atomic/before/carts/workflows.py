from django.db import transaction

from .services import create_order_from_cart


def place_order(cart):
    with transaction.atomic():
        order = create_order_from_cart(cart)
        cart.delete()
    return order
