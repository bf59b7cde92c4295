SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]
CELERY_BROKER_URL = "amqp://guest:guest@localhost:5672//"
CELERY_TASK_DEFAULT_QUEUE = "tasks"
