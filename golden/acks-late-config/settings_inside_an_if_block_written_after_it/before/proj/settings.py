import os

SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]

if os.environ.get("BROKER"):
    CELERY_BROKER_URL = os.environ["BROKER"]
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CELERY_TASK_ALWAYS_EAGER = True

TIME_ZONE = "UTC"
