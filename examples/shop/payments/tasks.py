from celery import shared_task
from django.utils import timezone

from payments.models import Account, ExchangeRate, Invoice, PaymentEvent
from payments.services.payouts import CreatePayout


@shared_task(bind=True, max_retries=3)
def run_monthly_payout(self, account_id: int, period: str) -> int:
    account = Account.objects.get(pk=account_id)
    payout = CreatePayout(account).execute(period)
    PaymentEvent.objects.create(account=account, kind="payout")
    return payout.pk


@shared_task
def issue_invoice(account_id: int, number: str, total: str, **extra) -> str:
    invoice = Invoice.objects.create(number=number, account_id=account_id, total=total, **extra)
    return invoice.number


@shared_task
def store_exchange_rate(currency: str, rate: str) -> None:
    # Only runtime values and a timestamp, and no unique field: idem-fix says why it cannot fix this.
    ExchangeRate.objects.create(currency=currency, rate=rate, fetched_at=timezone.now())


@shared_task
def close_month(account_id: int, period: str, total: str) -> None:
    number = f"{account_id}-{period}"
    if not Invoice.objects.filter(number=number).exists():
        Invoice.objects.create(number=number, account_id=account_id, total=total)
