"""What acks-late-config writes: a value replaced, a key merged into a settings dict, or a setting added
beside the others. Frozen, so `pr` can tell which plans a rewrite applied."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SetValue:
    """`CELERY_TASK_ACKS_LATE = False` -> `= True`, in the statement starting on `line`."""

    line: int
    written: str  # the name as written: "CELERY_TASK_ACKS_LATE", "app.conf.update(task_acks_late=...)"
    name: str  # Celery's name, for the test that pins it
    value: str  # the new value's source


@dataclass(frozen=True)
class MergeKey:
    """`CELERY_BROKER_TRANSPORT_OPTIONS = {...}` gains (or changes) one key, the rest kept as written."""

    line: int
    written: str
    key: str
    value: str
    name: str = "broker_transport_options"


@dataclass(frozen=True)
class Insert:
    """A new `spelled = value` after the statement holding line `after` (0: at the end of the module), in
    the class `in_class` when the settings live in one (class-based settings)."""

    after: int
    in_class: str
    spelled: str
    value: str
    name: str
