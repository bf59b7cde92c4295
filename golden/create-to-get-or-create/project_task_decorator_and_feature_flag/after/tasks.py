from django.conf import settings

from .decorators import cron_task
from .models import Customer, LoyaltyStatement

if settings.LOYALTY_ENABLED:

    @cron_task(lock_seconds=3600)
    def build_loyalty_statements(quarter):
        for customer in Customer.objects.filter(is_active=True):
            LoyaltyStatement.objects.get_or_create(customer=customer, quarter=quarter, defaults={"points": customer.points_for(quarter)})
