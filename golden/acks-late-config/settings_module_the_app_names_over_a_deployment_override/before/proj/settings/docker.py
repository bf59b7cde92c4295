import os

from .base import *  # noqa: F403

CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL", "amqp://rabbitmq:5672//")
CELERY_TASK_DEFAULT_QUEUE = os.getenv("CELERY_QUEUE", "tasks")
CELERY_TIMEZONE = "UTC"
