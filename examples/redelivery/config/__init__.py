"""A small Django + Celery project on a real Redis broker, with at-least-once delivery switched on.

Its tasks have the shapes that repeat a side effect when a message is delivered twice. The story in
scripts/demo.py (and tests/e2e) runs them on a real worker, SIGKILLs the worker after a task's side
effect and before its ack, and counts what a second worker does when Redis redelivers the message.
"""
from .celery import app as celery_app

__all__ = ("celery_app",)
