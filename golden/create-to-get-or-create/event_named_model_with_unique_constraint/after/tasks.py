from .base import BaseTask
from .models import Calendar, CalendarEvent


class ImportEventsTask(BaseTask):
    name = "calendars.import_events"

    def run(self, calendar_id, events):
        calendar = Calendar.objects.get(pk=calendar_id)
        for event in events:
            self.import_one(calendar, event)

    def import_one(self, calendar, event):
        CalendarEvent.objects.get_or_create(
            calendar=calendar,
            provider_event_id=event["id"],
            defaults={
                "title": event.get("summary", ""),
                "starts_at": event["start"],
            },
        )
