"""The Celery settings that make tasks at-least-once -> task_acks_late, task_reject_on_worker_lost,
worker_prefetch_multiplier = 1 and (Redis, SQS) a visibility_timeout above what tasks take, written where
the project's Celery settings live, and a test that pins them."""

from __future__ import annotations

from pathlib import Path

from ..engine.levels import Applicability
from ..engine.rules import Rule
from . import detect, pin_test, rewrite


class AcksLateConfig(Rule):
    detect = staticmethod(detect.detect)
    transform = staticmethod(rewrite.transform)
    companion_files = staticmethod(pin_test.pin_test)


rule = AcksLateConfig(
    name=detect.NAME,
    summary="Celery settings -> task_acks_late, task_reject_on_worker_lost, prefetch 1 and a Redis/SQS visibility_timeout above the longest task, with a test that pins them",
    applicabilities=(Applicability.SAFE, Applicability.UNSAFE, Applicability.MANUAL),
    readme=Path(__file__).with_name("README.md"),
    last=True,  # `pr` commits it after the task fixes: at-least-once goes on once the tasks can take it
    config_only=True,
)
