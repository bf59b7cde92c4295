from celery import shared_task

from .models import Account, Invoice, LedgerEntry


@shared_task
def generate_invoice_pdf(invoice_id):
    invoice = Invoice.objects.select_related("account").get(pk=invoice_id)
    return f"{invoice.account.name}-{invoice.period}.pdf"


@shared_task
def close_billing_period(account_id, period):
    account = Account.objects.get(pk=account_id)
    invoice = Invoice.objects.create(account=account, period=period, total=account.balance)
    generate_invoice_pdf.delay(invoice.pk)
    LedgerEntry.objects.create(account=account, invoice=invoice, amount=-account.balance)
