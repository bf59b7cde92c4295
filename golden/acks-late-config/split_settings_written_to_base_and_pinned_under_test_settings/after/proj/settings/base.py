import environ

env = environ.Env()

SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://redis:6379/0")
CELERY_TASK_TIME_LIMIT: int = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 60
# At-least-once delivery: a task whose worker dies runs again instead of being lost (idem-fix acks-late-config).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 43200}
