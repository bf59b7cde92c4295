from .models import Webinar
from .tasks import create_meeting


def duplicate_webinar(webinar_id, starts_at):
    webinar = Webinar.objects.get(pk=webinar_id)
    webinar.pk = None
    webinar.starts_at = starts_at
    webinar.save()
    create_meeting.delay(webinar.pk)
    return webinar
