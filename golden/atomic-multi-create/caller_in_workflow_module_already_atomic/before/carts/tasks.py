from celery import shared_task

from .models import Cart
from .workflows import place_order


@shared_task
def checkout_cart(cart_id):
    cart = Cart.objects.get(pk=cart_id)
    return place_order(cart).pk
