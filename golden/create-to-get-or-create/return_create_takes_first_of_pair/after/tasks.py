from celery import shared_task

from .models import Account
from .payouts import open_payout


@shared_task
def open_monthly_payout(account_id, period, amount):
    payout = open_payout(Account.objects.get(pk=account_id), period, amount)
    return payout.pk
