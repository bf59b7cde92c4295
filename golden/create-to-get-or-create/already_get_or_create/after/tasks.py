from celery import shared_task

from .models import Account, Payout


@shared_task
def create_payout(account_id, period, amount):
    account = Account.objects.get(pk=account_id)
    payout, created = Payout.objects.get_or_create(account=account, period=period, defaults={"amount": amount})
    if not created and payout.amount != amount:
        Payout.objects.update_or_create(account=account, period=period, defaults={"amount": amount})
    return payout.pk
