"""The Celery app. Eager mode: a task runs in the caller's process, so tests need no broker."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djproject.settings")

app = Celery("djproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
