"""Payment tasks. Each one creates a row that a redelivery would create again."""
import logging

from celery import shared_task

from djproject.celery import app
from djproject.faults import crash_point
from payments.models import Account, Invoice, Payout
from payments.services.payouts import CreatePayout

logger = logging.getLogger(__name__)


@shared_task
def create_payout(account_id, period, amount):
    """Shape: create in the task body, assigned to a variable."""
    account = Account.objects.get(pk=account_id)
    payout = Payout.objects.create(account=account, period=period, amount=amount)
    crash_point("after_create")
    logger.info("payout %s created for %s", payout.pk, period)
    return payout.pk


@shared_task
def run_monthly_payout(account_id, period):
    """Shape: create inside a service class in another module, returned from a helper."""
    account = Account.objects.get(pk=account_id)
    payout = CreatePayout(account).execute(period)
    return payout.pk


@app.task(bind=True, max_retries=3)
def issue_invoice(self, number, total, currency="EUR", memo=""):
    """Shape: create with a `**extra` splat (bound task)."""
    logger.info("%s issuing invoice %s (attempt %s)", self.name, number, self.request.retries)
    extra = {"currency": currency}
    if memo:
        extra["memo"] = memo
    invoice = Invoice.objects.create(number=number, total=total, **extra)
    crash_point("after_create")
    return invoice.number
