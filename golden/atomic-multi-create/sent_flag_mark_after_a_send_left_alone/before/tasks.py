from celery import shared_task
from django.core.mail import send_mail
from django.utils import translation

from .models import Account, AuditLog


@shared_task
def welcome(account_id):
    account = Account.objects.get(pk=account_id)
    if account.welcome_sent:
        return
    send_mail("Welcome", "Hello", None, [account.email])
    Account.objects.filter(pk=account.pk).update(welcome_sent=True)
    AuditLog.objects.create(message="welcomed")


@shared_task
def remind(account_id):
    account = Account.objects.get(pk=account_id)
    if account.reminder_sent:
        return
    with translation.override("en"):
        send_mail("Reminder", "Hello", None, [account.email])
    Account.objects.filter(pk=account.pk).update(reminder_sent=True)
    AuditLog.objects.create(message="reminded")
