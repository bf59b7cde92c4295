import functools

from celery import shared_task
from django.core.cache import cache


def cron_task(lock_seconds=300, **task_options):
    """A periodic task that never runs twice at once (a cache lock around the body)."""

    def wrap(func):
        @functools.wraps(func)
        def locked(*args, **kwargs):
            if not cache.add(f"lock:{func.__name__}", 1, lock_seconds):
                return None
            try:
                return func(*args, **kwargs)
            finally:
                cache.delete(f"lock:{func.__name__}")

        return shared_task(**task_options)(locked)

    return wrap
