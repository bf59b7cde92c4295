from .models import Installment


def open_installments(loan):
    return Installment.objects.filter(loan=loan, status="scheduled").order_by("due_date")
