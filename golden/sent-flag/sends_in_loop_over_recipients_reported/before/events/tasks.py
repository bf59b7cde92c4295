from celery import shared_task
from django.core.mail import send_mail

from events.models import Event


@shared_task
def send_event_reminders(event_id):
    event = Event.objects.get(pk=event_id)
    for attendee in event.attendees.all():
        send_mail(f"{event.title} starts soon", "See you there.", None, [attendee.email])
