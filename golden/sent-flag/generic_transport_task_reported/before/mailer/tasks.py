from celery import shared_task
from django.core.mail import send_mail


@shared_task(name="mailer.send")
def send_email_task(subject, body, recipients):
    """Queued by views with whatever they want to send."""
    send_mail(subject, body, None, recipients)
