from celery import shared_task

from .models import Reservation


@shared_task
def expire_reservations():
    Reservation.objects.filter(status="PENDING").update(status="EXPIRED")
