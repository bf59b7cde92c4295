from celery import Celery

from proj.config import WorkerConfig

app = Celery("proj")
app.config_from_object(WorkerConfig)
