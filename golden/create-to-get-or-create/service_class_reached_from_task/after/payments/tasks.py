from celery import shared_task

from .models import Account
from .services.payouts import CreatePayout


@shared_task
def run_monthly_payout(account_id, period):
    account = Account.objects.get(pk=account_id)
    CreatePayout(account, period).execute()
