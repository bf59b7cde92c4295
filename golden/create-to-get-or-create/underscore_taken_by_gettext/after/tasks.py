from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from .models import Notice


@shared_task
def notify_password_expiry(user_id):
    user = get_user_model().objects.get(pk=user_id)
    notice, _created = Notice.objects.get_or_create(user=user, topic="password_expiry", defaults={"title": _("Your password expires soon")})
    return notice.pk
