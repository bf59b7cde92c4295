SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]
CELERY_BROKER_URL = "amqp://guest:guest@localhost:5672//"
# At-least-once delivery: a task whose worker dies runs again instead of being lost (idem-fix acks-late-config).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "tasks"
