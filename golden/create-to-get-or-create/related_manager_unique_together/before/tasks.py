from celery import shared_task

from .models import Order


@shared_task
def materialize_cart(order_id):
    order = Order.objects.get(pk=order_id)
    for item in order.cart["items"]:
        order.lines.create(sku=item["sku"], quantity=item["quantity"], unit_price=item["price"])
