"""Payout service: the create hides two calls deep below the task, in another module."""
from decimal import Decimal

from djproject.faults import crash_point
from payments.models import Account, Payout

MONTHLY_FEE = Decimal("9.90")


class CreatePayout:
    def __init__(self, account: Account):
        self.account = account

    def execute(self, period: str) -> Payout:
        amount = self._amount_for(period)
        payout = self._create_payout(period, amount)
        crash_point("after_create")
        return payout

    def _amount_for(self, period: str) -> Decimal:
        return Decimal("250.00") - MONTHLY_FEE

    def _create_payout(self, period: str, amount: Decimal) -> Payout:
        return Payout.objects.create(
            account=self.account,
            period=period,
            amount=amount,
            reference=f"PO-{self.account.pk}-{period}",
        )
