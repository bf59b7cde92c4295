"""Fault injection: make a task die halfway, after its side effect, as a killed worker would.

Tasks call `crash_point("after_create")` right after the side effect. When the environment
variable IDEMFIX_CRASH names that point, it raises InjectedCrash. With task_acks_late the broker
then redelivers the task, and the second run must not repeat the side effect.
"""
import os

CRASH_ENV = "IDEMFIX_CRASH"


class InjectedCrash(RuntimeError):
    """Raised at an armed crash point; stands for a worker killed mid-task."""


def crash_point(name: str) -> None:
    if name in os.environ.get(CRASH_ENV, "").split(","):
        raise InjectedCrash(f"injected crash at {name}")


def disconnect_point(name: str, retries: int) -> None:
    """A mail server that drops the first attempt when IDEMFIX_CRASH names this point: the task's own
    retry (which keeps the task id) must then send."""
    from smtplib import SMTPServerDisconnected

    if name in os.environ.get(CRASH_ENV, "").split(",") and retries == 0:
        raise SMTPServerDisconnected(f"injected disconnect at {name}")
