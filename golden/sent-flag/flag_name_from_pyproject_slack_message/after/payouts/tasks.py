from celery import shared_task
from django.conf import settings
from slack_sdk import WebClient

from payouts.models import Payout


@shared_task
def notify_host_of_payout(payout_id):
    payout = Payout.objects.select_related("host").get(pk=payout_id)
    slack = WebClient(token=settings.SLACK_TOKEN)
    if not Payout.objects.filter(pk=payout.pk, payout_notice_sent=False).update(payout_notice_sent=True):
        return
    slack.chat_postMessage(channel=payout.host.slack_channel, text=f"Payout of {payout.amount} is on its way")
