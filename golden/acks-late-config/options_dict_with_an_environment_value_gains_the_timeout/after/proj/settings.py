import os

SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]

CELERY_BROKER_URL = "redis://redis:6379/0"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "global_keyprefix": os.getenv("REDIS_PREFIX", ""),
    "visibility_timeout": 43200,
}
CELERY_TASK_TIME_LIMIT = int(os.getenv("WORKER_TIMEOUT", "1800"))
# At-least-once delivery: a task whose worker dies runs again instead of being lost (idem-fix acks-late-config).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
