SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]

CELERY_BROKER_URL = "pyamqp://guest@rabbitmq//"
