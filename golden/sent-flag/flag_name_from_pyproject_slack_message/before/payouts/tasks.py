from celery import shared_task
from django.conf import settings
from slack_sdk import WebClient

from payouts.models import Payout


@shared_task
def notify_host_of_payout(payout_id):
    payout = Payout.objects.select_related("host").get(pk=payout_id)
    slack = WebClient(token=settings.SLACK_TOKEN)
    slack.chat_postMessage(channel=payout.host.slack_channel, text=f"Payout of {payout.amount} is on its way")
