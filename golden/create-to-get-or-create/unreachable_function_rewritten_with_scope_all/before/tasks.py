from celery import shared_task

from .models import Payout


@shared_task
def mark_payout_sent(payout_id):
    Payout.objects.filter(pk=payout_id).update(status="sent")
