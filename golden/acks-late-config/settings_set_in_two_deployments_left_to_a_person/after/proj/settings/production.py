from .base import *  # noqa: F403

CELERY_TASK_ACKS_LATE = False
