import os

SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]

if os.environ.get("BROKER"):
    CELERY_BROKER_URL = os.environ["BROKER"]
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CELERY_TASK_ALWAYS_EAGER = True
# At-least-once delivery: a task whose worker dies runs again instead of being lost (idem-fix acks-late-config).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

TIME_ZONE = "UTC"
