from celery import shared_task
from django.utils import timezone

from .models import Account, Payout


@shared_task
def monthly_payouts():
    period = timezone.now().strftime("%Y-%m")
    for account in Account.objects.all():
        Payout.objects.create(account=account, period=period, amount=account.balance())
