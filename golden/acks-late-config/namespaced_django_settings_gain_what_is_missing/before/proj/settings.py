from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]

# Celery
CELERY_BROKER_URL = "redis://redis:6379/0"
CELERY_RESULT_BACKEND = "redis://redis:6379/1"
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 3}  # retry publishing

TIME_ZONE = "UTC"
