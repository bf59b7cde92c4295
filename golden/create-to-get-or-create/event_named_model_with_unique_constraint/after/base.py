import logging

from celery import Task

logger = logging.getLogger(__name__)


class BaseTask(Task):
    abstract = True
    autoretry_for = (ConnectionError,)
    retry_backoff = True

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.error("task %s failed: %s", self.name, exc)
