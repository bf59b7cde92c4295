"""A journal of deliveries: every time a worker starts, finishes or fails a task, one line.

It shows how many times each message was delivered (a redelivery runs the task a second time),
independently of what the task body does.
"""
import os
import time

from celery.signals import task_failure, task_postrun, task_prerun

from config.journal import append


def _record(event: str, task, task_id: str, **extra) -> None:
    delivery_info = getattr(task.request, "delivery_info", None) or {}
    append("deliveries", {
        "event": event,
        "task": task.name.rsplit(".", 1)[-1],
        "id": task_id,
        "pid": os.getpid(),
        "redelivered": bool(delivery_info.get("redelivered")),
        "at": time.time(),
        **extra,
    })


@task_prerun.connect
def _started(sender=None, task_id=None, task=None, **_):
    _record("started", task, task_id)


@task_postrun.connect
def _finished(sender=None, task_id=None, task=None, state=None, **_):
    _record("finished", task, task_id, state=state)


@task_failure.connect
def _failed(sender=None, task_id=None, exception=None, **_):
    _record("failed", sender, task_id, error=f"{type(exception).__name__}: {exception}")
