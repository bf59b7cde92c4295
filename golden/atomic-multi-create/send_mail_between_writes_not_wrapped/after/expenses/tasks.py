from celery import shared_task
from django.core.mail import send_mail

from .models import Approval, Expense, Reimbursement


@shared_task
def approve_expense(expense_id, approver_id):
    expense = Expense.objects.get(pk=expense_id)
    Approval.objects.create(expense=expense, approver_id=approver_id)
    send_mail("Expense approved", f"{expense.description}: {expense.amount}", None, [expense.submitter_email])
    Reimbursement.objects.create(expense=expense, amount=expense.amount)
