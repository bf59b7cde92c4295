from celery import shared_task
from django.core.mail import send_mail

from .models import Member


@shared_task
def send_account_deactivated_email(member_id):
    member = Member.objects.get(pk=member_id)
    send_mail("Your account was deactivated", "Contact support to restore access.", None, [member.email])


@shared_task
def send_account_reactivated_email(member_id):
    member = Member.objects.get(pk=member_id)
    send_mail("Welcome back", "Your account is active again.", None, [member.email])
