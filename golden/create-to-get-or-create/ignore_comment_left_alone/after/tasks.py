from celery import shared_task

from .models import Account, Payout


@shared_task
def create_correction_payout(account_id, period, amount):
    account = Account.objects.get(pk=account_id)
    # Each correction is its own payout on purpose; the caller dedupes on the ticket id.
    Payout.objects.create(account=account, period=period, amount=amount, kind="correction")  # idem-fix: ignore[create-to-get-or-create]
