from celery import shared_task
from django.utils import timezone

from .models import ExchangeRate


@shared_task
def store_exchange_rates(base, rates):
    fetched_at = timezone.now()
    for currency, value in rates.items():
        ExchangeRate.objects.update_or_create(
            base=base,
            currency=currency,
            defaults={"value": value, "fetched_at": fetched_at},
        )
