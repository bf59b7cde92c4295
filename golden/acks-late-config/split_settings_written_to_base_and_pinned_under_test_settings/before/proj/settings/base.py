import environ

env = environ.Env()

SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["proj"]
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://redis:6379/0")
CELERY_TASK_TIME_LIMIT: int = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 60
