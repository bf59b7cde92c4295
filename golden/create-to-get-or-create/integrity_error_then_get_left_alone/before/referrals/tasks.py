from celery import shared_task
from django.db import IntegrityError, transaction

from .models import Referral


@shared_task
def record_referral(referrer_id, invitee_email):
    try:
        with transaction.atomic():
            referral = Referral.objects.create(referrer_id=referrer_id, invitee_email=invitee_email)
    except IntegrityError:
        referral = Referral.objects.get(referrer_id=referrer_id, invitee_email=invitee_email)
    return referral.pk
