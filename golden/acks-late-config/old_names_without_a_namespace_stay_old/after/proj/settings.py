SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]

BROKER_URL = "amqp://guest:guest@rabbitmq:5672//"
CELERY_ACKS_LATE = True
# At-least-once delivery: a task whose worker dies runs again instead of being lost (idem-fix acks-late-config).
CELERY_REJECT_ON_WORKER_LOST = True
CELERYD_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
