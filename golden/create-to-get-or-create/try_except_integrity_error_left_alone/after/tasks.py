import logging

from celery import shared_task
from django.db import IntegrityError, transaction

from .models import Account, Payout

logger = logging.getLogger(__name__)


@shared_task
def create_payout(account_id, period, amount):
    account = Account.objects.get(pk=account_id)
    try:
        with transaction.atomic():
            Payout.objects.create(account=account, period=period, amount=amount)
    except IntegrityError:
        logger.info("payout for %s %s already exists", account_id, period)
