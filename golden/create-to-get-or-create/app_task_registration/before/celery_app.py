from celery import Celery

app = Celery("newsletter")
app.config_from_object("django.conf:settings", namespace="CELERY")
