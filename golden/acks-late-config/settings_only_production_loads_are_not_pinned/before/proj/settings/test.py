from .base import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
