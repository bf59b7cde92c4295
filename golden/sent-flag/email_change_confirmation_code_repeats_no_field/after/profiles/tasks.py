import secrets

from celery import shared_task
from django.core.mail import send_mail

from .models import Profile


@shared_task
def send_email_change_confirmation(profile_id):
    profile = Profile.objects.get(pk=profile_id)
    profile.email_change_code = f"{secrets.randbelow(10**6):06d}"
    profile.save(update_fields=["email_change_code"])
    send_mail(
        "Confirm your new address",
        f"Your confirmation code: {profile.email_change_code}",
        None,
        [profile.pending_email],
    )
