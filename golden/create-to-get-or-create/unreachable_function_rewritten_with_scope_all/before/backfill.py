"""One-off backfill, run by hand from `manage.py shell`; never from a worker."""

from .models import Account, Payout


def backfill_payouts(period, amounts):
    for account in Account.objects.filter(pk__in=amounts):
        Payout.objects.create(account=account, period=period, amount=amounts[account.pk])
