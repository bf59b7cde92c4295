from django.core.mail import send_mail
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Ticket


@receiver(post_save, sender=Ticket)
def acknowledge_ticket(sender, instance, created, **kwargs):
    if created:
        send_mail(f"[#{instance.pk}] {instance.subject}", "We received your request.", None, [instance.requester_email])
