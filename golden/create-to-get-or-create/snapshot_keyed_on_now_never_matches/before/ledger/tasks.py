from celery import shared_task
from django.utils import timezone

from .models import Account, BalanceSnapshot


@shared_task
def snapshot_balance(account_id):
    account = Account.objects.get(pk=account_id)
    BalanceSnapshot.objects.create(account=account, taken_at=timezone.now(), balance=account.balance)


def latest_snapshot(account):
    return BalanceSnapshot.objects.filter(account=account).latest("taken_at")
