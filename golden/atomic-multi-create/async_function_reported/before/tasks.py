from celery import shared_task

from .models import Customer, Order, OrderLine


async def place_order_async(customer, sku):
    order = await Order.objects.acreate(customer=customer)
    await OrderLine.objects.acreate(order=order, sku=sku)
    return order


@shared_task
def place_order(customer_id, sku):
    import asyncio

    customer = Customer.objects.get(pk=customer_id)
    return asyncio.run(place_order_async(customer, sku)).pk
