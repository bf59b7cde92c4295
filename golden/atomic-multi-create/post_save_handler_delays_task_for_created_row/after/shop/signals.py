from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Order
from .tasks import send_order_confirmation


@receiver(post_save, sender=Order)
def queue_confirmation(sender, instance, created, **kwargs):
    if created:
        send_order_confirmation.delay(instance.pk)
