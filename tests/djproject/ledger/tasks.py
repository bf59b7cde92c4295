"""Ledger tasks. Each one writes two rows; a worker that dies between them leaves half a booking,
and the redelivered task writes the first row again."""
from decimal import Decimal

from celery import shared_task

from djproject.faults import crash_point
from ledger.models import Batch, Entry, Wallet
from ledger.services import Refunds


@shared_task
def record_transfer(source_id, target_id, amount):
    """Shape: two creates in the task body, a debit then a credit."""
    source = Wallet.objects.get(pk=source_id)
    target = Wallet.objects.get(pk=target_id)
    value = Decimal(amount)
    Entry.objects.create(wallet=source, amount=-value, memo="transfer out")
    crash_point("between_creates")
    Entry.objects.create(wallet=target, amount=value, memo="transfer in")


@shared_task
def settle_transfer(source_id, target_id, amount, reference):
    """Shape: a check for the entries the booking writes, then both entries. Without a transaction a
    crash between them leaves half a booking that the check then takes for a whole one."""
    if Entry.objects.filter(memo=reference).exists():
        return
    source = Wallet.objects.get(pk=source_id)
    target = Wallet.objects.get(pk=target_id)
    value = Decimal(amount)
    Entry.objects.create(wallet=source, amount=-value, memo=reference)
    crash_point("between_creates")
    Entry.objects.create(wallet=target, amount=value, memo=reference)


@shared_task
def open_batch(wallet_id, reference):
    """Shape: `.save()` of a new instance, then a create."""
    wallet = Wallet.objects.get(pk=wallet_id)
    batch = Batch(wallet=wallet, reference=reference)
    batch.save()
    crash_point("between_creates")
    Entry.objects.create(wallet=wallet, batch=batch, amount=Decimal("0.00"), memo="opening")
    return batch.pk


@shared_task
def refund(merchant_id, customer_id, amount):
    """Shape: both creates in a service method the task calls."""
    merchant = Wallet.objects.get(pk=merchant_id)
    customer = Wallet.objects.get(pk=customer_id)
    entry = Refunds(merchant).refund(customer, Decimal(amount))
    return entry.pk
