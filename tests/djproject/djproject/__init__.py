"""A small real Django + Celery project whose tasks are not safe to run twice.

Runtime tests copy it, let idem-fix rewrite the copy, then run each task twice (a redelivery)
or crash it halfway and run it again, and count the rows. Loading the Celery app here makes
`@shared_task` bind to it, as in any Django + Celery project.
"""
from .celery import app as celery_app

__all__ = ("celery_app",)
