from celery import shared_task
from django.core.mail import send_mail

from .models import StockAlert


@shared_task
def notify_back_in_stock(alert_id):
    alert = StockAlert.objects.get(pk=alert_id)
    if not StockAlert.objects.filter(pk=alert.pk, notified=False).update(notified=True):
        return
    send_mail(f"{alert.product_name} is back", "Get it before it is gone.", None, [alert.subscriber_email])
