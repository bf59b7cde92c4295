from celery import shared_task

from .models import Installment, Loan


@shared_task
def schedule_installment(loan_id, due_date, amount):
    loan = Loan.objects.get(pk=loan_id)
    installment = Installment.objects.create(loan=loan, status="scheduled", due_date=due_date, amount=amount)
    return installment.pk
