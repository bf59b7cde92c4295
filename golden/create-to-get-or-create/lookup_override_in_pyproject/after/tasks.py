from celery import shared_task

from .models import Account, Payout


@shared_task
def create_payout(account_id, period, amount):
    account = Account.objects.get(pk=account_id)
    payout, _ = Payout.objects.get_or_create(
        account=account, period=period, defaults={"amount": amount, "channel": "sepa"}
    )
    return payout.pk
