from celery import shared_task

from .models import Company, Contact


@shared_task
def sync_signup(company_id, email, full_name):
    company = Company.objects.get(pk=company_id)
    try:
        contact = Contact.objects.get(company=company, email=email)
    except Contact.DoesNotExist:
        contact = Contact.objects.create(company=company, email=email, full_name=full_name)
    return contact.pk
