from configurations import Configuration


class Base(Configuration):
    SECRET_KEY = "not-a-secret"
    INSTALLED_APPS = ["proj"]

    CELERY_BROKER_URL = "amqp://guest:guest@rabbitmq:5672//"
    CELERY_TASK_ACKS_LATE: bool = True

    TIME_ZONE = "UTC"


class Production(Base):
    DEBUG = False
