from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone

from .models import Invoice, InvoiceEmail


@shared_task
def send_invoice(invoice_id):
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    if invoice.sent_at:
        return
    send_mail(f"Invoice {invoice.number}", "Please find your invoice attached.", None, [invoice.customer_email])
    InvoiceEmail.objects.create(invoice=invoice, recipient=invoice.customer_email, template="invoice_issued")
    invoice.sent_at = timezone.now()
    invoice.save(update_fields=["sent_at"])
