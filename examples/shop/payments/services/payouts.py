import uuid
from decimal import Decimal

from django.utils import timezone

from payments.models import Payout


class CreatePayout:
    """Turns an account's balance for a period into a payout row."""

    def __init__(self, account):
        self.account = account

    def execute(self, period: str) -> Payout:
        amount = self._balance(period)
        return self._get_or_create_payout(period, amount)

    def _balance(self, period: str) -> Decimal:
        return Decimal("120.00")

    def _get_or_create_payout(self, period: str, amount: Decimal) -> Payout:
        # Despite the name, this always creates: a redelivered task pays twice.
        return Payout.objects.create(
            account=self.account,
            period=period,
            amount=amount,
            reference=uuid.uuid4().hex,  # never part of the lookup
            created_at=timezone.now(),
        )
