from __future__ import annotations

from decimal import Decimal

from celery import shared_task

from .models import Account, Payout


@shared_task
def create_payout(account_id: int, period: str, amount: str) -> int:
    account: Account = Account.objects.get(pk=account_id)
    payout: Payout = Payout.objects.get_or_create(account=account, period=period, defaults={"amount": Decimal(amount)})[0]
    return payout.pk
