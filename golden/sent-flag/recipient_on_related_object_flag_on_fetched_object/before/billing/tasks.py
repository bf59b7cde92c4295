from celery import shared_task
from django.core.mail import EmailMessage

from billing.models import Invoice
from billing.pdf import render_invoice_pdf


@shared_task
def send_invoice_email(invoice_id):
    invoice = Invoice.objects.select_related("customer").get(pk=invoice_id)
    pdf = render_invoice_pdf(invoice)
    message = EmailMessage(f"Invoice {invoice.number}", "Your invoice is attached.", to=[invoice.customer.email])
    message.attach(f"{invoice.number}.pdf", pdf, "application/pdf")
    message.send()
