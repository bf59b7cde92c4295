import requests
from celery import shared_task
from django.conf import settings

from .models import Webinar


@shared_task
def create_meeting(webinar_id):
    webinar = Webinar.objects.get(pk=webinar_id)
    response = requests.post(
        f"{settings.MEETINGS_API}/meetings",
        json={"topic": webinar.title, "start_time": webinar.starts_at.isoformat()},
        timeout=10,
    )
    response.raise_for_status()
    webinar.meeting_id = response.json()["id"]
    webinar.save(update_fields=["meeting_id"])
