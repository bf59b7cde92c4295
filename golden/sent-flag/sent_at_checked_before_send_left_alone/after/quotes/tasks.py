from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone

from .models import Quote


@shared_task
def send_quote(quote_id):
    quote = Quote.objects.get(pk=quote_id)
    if quote.sent_at is not None:
        return
    send_mail(f"Quote #{quote.pk}", f"Total: {quote.total}", None, [quote.client_email])
    quote.sent_at = timezone.now()
    quote.save(update_fields=["sent_at"])
