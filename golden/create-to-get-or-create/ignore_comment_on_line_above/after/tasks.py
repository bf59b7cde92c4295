from celery import shared_task

from .models import Account, Payout


@shared_task
def create_payout(account_id, period, amount):
    account = Account.objects.get(pk=account_id)
    # idem-fix: ignore[create-to-get-or-create] -- a duplicate must raise and page finance
    payout = Payout.objects.create(
        account=account,
        period=period,
        amount=amount,
    )
    return payout.pk
