from celery import Celery

app = Celery("proj")
app.conf.update(
    broker_url="redis://redis:6379/0",
    task_acks_late=False,
    task_soft_time_limit=600,
)
