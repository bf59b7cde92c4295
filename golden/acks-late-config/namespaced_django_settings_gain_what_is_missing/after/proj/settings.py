from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]

# Celery
CELERY_BROKER_URL = "redis://redis:6379/0"
CELERY_RESULT_BACKEND = "redis://redis:6379/1"
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 3, "visibility_timeout": 43200}  # retry publishing
# At-least-once delivery: a task whose worker dies runs again instead of being lost (idem-fix acks-late-config).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

TIME_ZONE = "UTC"
