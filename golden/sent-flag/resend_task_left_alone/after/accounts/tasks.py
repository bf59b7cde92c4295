from celery import shared_task
from django.core.mail import send_mail

from accounts.models import Profile


@shared_task
def resend_verification_email(profile_id):
    """The user clicked "send it again": sending again is the point."""
    profile = Profile.objects.select_related("user").get(pk=profile_id)
    send_mail("Verify your email", "Click the link.", None, [profile.user.email])
