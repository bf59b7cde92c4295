from celery import shared_task
from django.utils import timezone

from .models import Customer, Plan, Subscription


@shared_task
def start_subscription(customer_id, plan_code, seats):
    customer = Customer.objects.get(pk=customer_id)
    plan = Plan.objects.get(code=plan_code)
    subscription = Subscription.objects.create(customer=customer, plan=plan, seats=seats, started_at=timezone.now())
    return subscription.pk
