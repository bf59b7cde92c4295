"""Ledger service: the two writes of a refund live in a method, one call below the task."""
from decimal import Decimal

from djproject.faults import crash_point
from ledger.models import Entry, Wallet


class Refunds:
    def __init__(self, merchant: Wallet):
        self.merchant = merchant

    def refund(self, customer: Wallet, amount: Decimal) -> Entry:
        Entry.objects.create(wallet=self.merchant, amount=-amount, memo="refund out")
        crash_point("between_creates")
        return Entry.objects.create(wallet=customer, amount=amount, memo="refund in")
