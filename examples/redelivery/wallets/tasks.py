from decimal import Decimal

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from config.hang import hang_point
from wallets.models import LedgerEntry, Wallet

SIGNUP_BONUS = Decimal("10.00")


@shared_task
def open_wallet(user_id: int) -> int:
    user = get_user_model().objects.get(pk=user_id)
    wallet = Wallet.objects.create(owner=user, currency="EUR", opened_at=timezone.now())
    hang_point("open_wallet")  # the wallet row is written, its bonus not yet; nothing is acked
    LedgerEntry.objects.create(wallet=wallet, kind="signup_bonus", amount=SIGNUP_BONUS)
    return wallet.pk
