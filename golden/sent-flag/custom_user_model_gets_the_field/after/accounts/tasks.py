from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.mail import send_mail


@shared_task
def send_welcome_email(user_id):
    user = get_user_model().objects.get(pk=user_id)
    if not get_user_model().objects.filter(pk=user.pk, welcome_email_sent=False).update(welcome_email_sent=True):
        return
    send_mail("Welcome", "Thanks for joining.", None, [user.email])
