import requests
from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from .models import CalendarIntegration

TOKEN_URL = "https://oauth2.example.com/token"


@shared_task
def refresh_calendar_token(integration_id):
    integration = CalendarIntegration.objects.get(pk=integration_id)
    response = requests.post(
        TOKEN_URL,
        data={
            "grant_type": "refresh_token",
            "refresh_token": integration.refresh_token,
            "client_id": settings.CALENDAR_CLIENT_ID,
        },
        timeout=10,
    )
    tokens = response.json()
    cache.set(f"calendar-access:{integration.pk}", tokens["access_token"], tokens["expires_in"])
    integration.refresh_token = tokens["refresh_token"]
    integration.save(update_fields=["refresh_token"])
