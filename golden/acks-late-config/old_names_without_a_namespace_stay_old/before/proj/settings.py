SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]

BROKER_URL = "amqp://guest:guest@rabbitmq:5672//"
CELERY_ACKS_LATE = False
CELERY_TASK_SERIALIZER = "json"
