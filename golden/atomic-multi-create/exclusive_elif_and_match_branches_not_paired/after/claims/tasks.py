from celery import shared_task

from .models import Claim, Escalation, Payment, Rejection


@shared_task
def settle_claim(claim_id):
    claim = Claim.objects.get(pk=claim_id)
    if claim.amount <= 0:
        Rejection.objects.create(claim=claim, reason="nothing to pay")
    elif claim.amount > claim.limit:
        Escalation.objects.create(claim=claim, reviewer_group="senior")
    else:
        Payment.objects.create(claim=claim, amount=claim.amount)


@shared_task
def record_decision(claim_id, decision):
    claim = Claim.objects.get(pk=claim_id)
    match decision:
        case "reject":
            Rejection.objects.create(claim=claim, reason="declined by reviewer")
        case "escalate":
            Escalation.objects.create(claim=claim, reviewer_group="senior")
        case _:
            Payment.objects.create(claim=claim, amount=claim.amount)
