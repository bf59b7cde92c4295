from .base import *  # noqa: F403

CELERY_BROKER_URL = "amqp://guest:guest@rabbitmq:5672//"
