import os

SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]

CELERY_BROKER_URL = "amqp://guest@rabbitmq//"
CELERY_WORKER_PREFETCH_MULTIPLIER = int(os.getenv("CELERY_PREFETCH", "4"))
