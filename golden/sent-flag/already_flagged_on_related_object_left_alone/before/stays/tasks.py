from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone

from stays.models import Guest, Stay


@shared_task
def welcome_guest(stay_id):
    stay = Stay.objects.select_related("guest").get(pk=stay_id)
    if stay.guest.welcome_sent_at is None:
        send_mail("Welcome", "Enjoy your stay.", None, [stay.guest.email])
        Guest.objects.filter(pk=stay.guest.pk).update(welcome_sent_at=timezone.now())
