from .base import BaseTask
from .models import Appointment, Calendar


class ImportAppointmentsTask(BaseTask):
    name = "calendars.import_appointments"

    def run(self, calendar_id, appointments):
        calendar = Calendar.objects.get(pk=calendar_id)
        for appointment in appointments:
            self.import_one(calendar, appointment)

    def import_one(self, calendar, appointment):
        Appointment.objects.get_or_create(
            calendar=calendar,
            provider_appointment_id=appointment["id"],
            defaults={
                "title": appointment.get("summary", ""),
                "starts_at": appointment["start"],
            },
        )
