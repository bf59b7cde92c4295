from celery import shared_task
from django.core.mail import send_mail

from .models import Invoice


@shared_task
def send_first_reminder(invoice_id):
    invoice = Invoice.objects.get(pk=invoice_id)
    send_mail("Payment reminder", f"Invoice {invoice.number} is due.", None, [invoice.customer_email])
    invoice.reminder_set.create(stage="first", sent_to=invoice.customer_email)
