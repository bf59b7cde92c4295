"""What the project index is made of: symbols, function keys, tasks, models, parse errors, and the
constants that say which Celery and Django names count."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from . import facts
from .files import SourceFile
from .loader import Entry


CELERY_TASK_DECORATORS = frozenset(
    {
        "celery.shared_task",
        "celery.task",
        "celery.app.shared_task",
        "celery.decorators.task",
        "celery.decorators.periodic_task",
        "celery.task.task",
        "celery.task.periodic_task",
        "celery.task.base.task",
        "celery.task.base.periodic_task",
    }
)
CELERY_TASK_CLASSES = frozenset({"celery.Task", "celery.app.task.Task", "celery.task.Task", "celery.task.base.Task"})
USER_BASES = frozenset({"AbstractUser", "AbstractBaseUser"})
# Files that belong to a project's tests, not to what it runs: test modules, fixtures, factories.
TEST_MODULE = re.compile(r"(^|/)(tests?|testing|fixtures)/|(^|/)(test_[^/]*|[^/]*_tests?|conftest|factories|tests?|test_settings)\.py$")
DJANGO_MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
APP_LIKE = ("app", "celery", "celery_app")



# (whose __init__ and __hash__ run in Python).
class Symbol(NamedTuple):
    kind: str  # "module" | "function" | "class" | "app" | "external" | "unknown"
    module: str = ""
    name: str = ""  # qualname inside the module, or the dotted name for external / unknown


class FunctionKey(NamedTuple):
    module: str
    qualname: str


@dataclass
class Task:
    key: FunctionKey
    name: str  # what Celery calls it: module.function (or the class name for class-based tasks)
    path: str
    line: int
    how: str  # the decorator or registration that makes it a task
    options: dict[str, object] = field(default_factory=dict)  # acks_late and the like, set by the task itself


@dataclass
class Model:
    module: str
    name: str
    app_label: str
    fields: dict[str, facts.ModelField]
    constraints: list[facts.Constraint]
    managers: list[str]
    meta: dict[str, object] = field(default_factory=dict)  # its own class Meta's proxy / managed
    user_model: bool = False  # a subclass of AbstractUser / AbstractBaseUser: what get_user_model() returns

    @property
    def label(self) -> str:
        return f"{self.app_label}.{self.name}" if self.app_label else self.name


@dataclass
class ParseError:
    path: str
    line: int
    message: str
    absolute: Path | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


@dataclass
class Reach:
    task: Task
    via: FunctionKey | None  # the caller it was reached from (None for the task itself)



@dataclass
class LoadedFile:
    source: SourceFile
    module_name: str
    is_package: bool
    entry: Entry | None = None



def module_name_of(path: Path, root: Path) -> tuple[str, bool]:
    """Dotted name from the folder the run reads: folders without __init__.py still name a
    (namespace) package; imports written from another sys.path entry resolve by suffix."""
    is_package = path.name == "__init__.py"
    try:
        parts = list(path.relative_to(root).parts)
    except ValueError:
        parts = [path.name]
    parts[-1] = parts[-1][: -len(".py")]
    if is_package:
        parts.pop()
    return ".".join(parts) or root.name, is_package
