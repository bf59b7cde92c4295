import os

SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]

CELERY_BROKER_URL = "amqp://guest@rabbitmq//"
CELERY_WORKER_PREFETCH_MULTIPLIER = int(os.getenv("CELERY_PREFETCH", "4"))
# At-least-once delivery: a task whose worker dies runs again instead of being lost (idem-fix acks-late-config).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
