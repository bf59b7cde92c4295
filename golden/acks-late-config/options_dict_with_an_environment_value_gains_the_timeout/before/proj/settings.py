import os

SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]

CELERY_BROKER_URL = "redis://redis:6379/0"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "global_keyprefix": os.getenv("REDIS_PREFIX", ""),
}
CELERY_TASK_TIME_LIMIT = int(os.getenv("WORKER_TIMEOUT", "1800"))
