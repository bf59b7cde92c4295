SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]

CELERY_BROKER_URL = "amqp://guest@rabbitmq//"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# We turned acks_late off again: the import tasks must never run twice, and a lost one is re-queued by hand.
# CELERY_TASK_ACKS_LATE = True
