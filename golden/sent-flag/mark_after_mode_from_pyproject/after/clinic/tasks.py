from django.core.cache import cache
from celery import shared_task
from django.conf import settings
from twilio.rest import Client

from clinic.models import Appointment


@shared_task
def send_appointment_reminder_sms(appointment_id):
    appointment = Appointment.objects.get(pk=appointment_id)
    client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
    if send_appointment_reminder_sms.request.id and cache.get(f"sent-flag:clinic.tasks.send_appointment_reminder_sms:{send_appointment_reminder_sms.request.id}"):
        return appointment.pk
    client.messages.create(
        to=appointment.patient_phone,
        from_=settings.TWILIO_FROM,
        body=f"Reminder: your appointment at {appointment.starts_at:%H:%M} tomorrow",
    )
    if send_appointment_reminder_sms.request.id:
        cache.set(f"sent-flag:clinic.tasks.send_appointment_reminder_sms:{send_appointment_reminder_sms.request.id}", True, timeout=60 * 60 * 24 * 7)
    return appointment.pk
