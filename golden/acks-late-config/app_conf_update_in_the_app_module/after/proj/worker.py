from celery import Celery

app = Celery("proj")
app.conf.update(
    broker_url="redis://redis:6379/0",
    task_acks_late=True,
    task_soft_time_limit=600,
)
# At-least-once delivery: a task whose worker dies runs again instead of being lost (idem-fix acks-late-config).
app.conf.task_reject_on_worker_lost = True
app.conf.worker_prefetch_multiplier = 1
app.conf.broker_transport_options = {"visibility_timeout": 43200}
