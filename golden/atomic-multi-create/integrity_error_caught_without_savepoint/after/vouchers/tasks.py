from celery import shared_task
from django.db import IntegrityError

from .models import Discount, Order, Redemption, Voucher


@shared_task
def apply_voucher(order_id, code):
    order = Order.objects.get(pk=order_id)
    voucher = Voucher.objects.get(code=code)
    try:
        Redemption.objects.create(voucher=voucher, order=order)
    except IntegrityError:
        order.note = f"voucher {code} was already used"
        order.save(update_fields=["note"])
        return
    Discount.objects.create(order=order, amount=voucher.amount)
