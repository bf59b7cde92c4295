from celery import shared_task

from config.hang import hang_point
from payouts.models import Account
from payouts.services import PayoutService


@shared_task
def run_monthly_payout(account_id: int, period: str) -> int:
    account = Account.objects.get(pk=account_id)
    payout = PayoutService(account).pay(period)
    hang_point("run_monthly_payout")  # the payout row is committed; the message is not acked yet
    return payout.pk
