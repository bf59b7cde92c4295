"""One-off backfill, run by hand from `manage.py shell`; never from a worker."""

from .models import Account, Payout


def backfill_payouts(period, amounts):
    for account in Account.objects.filter(pk__in=amounts):
        Payout.objects.get_or_create(account=account, period=period, defaults={"amount": amounts[account.pk]})
