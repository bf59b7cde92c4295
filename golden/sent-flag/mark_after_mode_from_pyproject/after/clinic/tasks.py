from celery import shared_task
from django.conf import settings
from twilio.rest import Client

from clinic.models import Appointment


@shared_task
def send_appointment_reminder_sms(appointment_id):
    appointment = Appointment.objects.get(pk=appointment_id)
    client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
    if appointment.reminder_sms_sent:
        return appointment.pk
    client.messages.create(
        to=appointment.patient_phone,
        from_=settings.TWILIO_FROM,
        body=f"Reminder: your appointment at {appointment.starts_at:%H:%M} tomorrow",
    )
    Appointment.objects.filter(pk=appointment.pk).update(reminder_sms_sent=True)
    return appointment.pk
