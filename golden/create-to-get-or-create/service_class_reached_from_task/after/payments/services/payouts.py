"""Payout creation, shared by the monthly task and the admin."""

from ..models import Payout


class CreatePayout:
    def __init__(self, account, period):
        self.account = account
        self.period = period

    def execute(self):
        if self.account.balance <= 0:
            return None
        return self._create()

    def _create(self):
        payout, _ = Payout.objects.get_or_create(
            account=self.account,
            period=self.period,
            defaults={
                "amount": self.account.balance,
                "iban": self.account.iban,
            },
        )
        return payout
