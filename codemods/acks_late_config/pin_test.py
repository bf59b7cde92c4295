"""The test written beside the Celery app: it loads the settings through the app, as a worker does, and
asserts each at-least-once value, so a later edit cannot silently undo them.

Written only when it will pass where the project runs its tests: one Celery app to import, and every
test settings module loads the settings modules the rule wrote (a value written in production.py only
would fail under settings/test.py)."""

from __future__ import annotations

from pathlib import Path

from ..engine.celery_config import CeleryConfig
from ..engine.project import Project
from .detect import WANTED
from .plans import Insert, MergeKey, SetValue

FILE_NAME = "test_celery_at_least_once.py"

CHECKS = {  # Celery name -> (test name, assertion on `app.conf`)
    "task_acks_late": ("test_a_task_is_acknowledged_after_it_runs", "self.assertIs(app.conf.task_acks_late, True)"),
    "task_reject_on_worker_lost": (
        "test_a_task_whose_worker_is_killed_is_delivered_again", "self.assertIs(app.conf.task_reject_on_worker_lost, True)",
    ),
    "worker_prefetch_multiplier": (
        "test_a_worker_process_reserves_one_message_at_a_time", "self.assertEqual(app.conf.worker_prefetch_multiplier, 1)",
    ),
    "broker_transport_options": (
        "test_a_message_is_not_delivered_again_while_its_task_runs",
        'self.assertGreaterEqual(app.conf.broker_transport_options.get("visibility_timeout", 0), {timeout})',
    ),
}

TEMPLATE = '''"""Celery runs each task at least once here: these settings make a task whose worker dies run again
instead of being lost (written by idem-fix acks-late-config). A change that turns one off fails this
test rather than silently losing tasks again."""

import unittest

from {module} import {app}


class CeleryAtLeastOnceTests(unittest.TestCase):
{tests}'''


def pin_test(project: Project, written: list[tuple[str, object]]) -> list[tuple[Path, bytes]]:
    config = project.celery_config()
    django_settings = {module for module, plan in written if (plan.spelled if isinstance(plan, Insert) else plan.written).isupper()}
    if len(config.apps) != 1 or not _test_settings_load(project, config, django_settings):
        return []
    app = config.apps[0]
    pinned: dict[str, str] = {}  # name -> the visibility_timeout asserted, "" for the others
    for name, (wanted, _, _) in WANTED.items():  # already right: pinned too
        setting = config.in_effect[name][1] if name in config.in_effect else None
        if setting is not None and setting.value == wanted and type(setting.value) is type(wanted) and not setting.note:
            pinned[name] = ""
    for _, plan in written:
        if isinstance(plan, MergeKey):
            pinned[plan.name] = plan.value
        elif isinstance(plan, Insert) and plan.name == "broker_transport_options":
            pinned[plan.name] = plan.value.split(":", 1)[1].strip(" }")
        elif isinstance(plan, (Insert, SetValue)):
            pinned[plan.name] = ""
    tests = []
    for name, (test, assertion) in CHECKS.items():
        if name in pinned:
            body = assertion.format(timeout=pinned[name]).replace("app.conf", f"{app.name}.conf")
            tests.append(f"    def {test}(self):\n        {body}\n")
    path = project.source_of(app.module).path
    text = TEMPLATE.format(module=_import_name(path), app=app.name, tests="\n".join(tests))
    return [(path.parent / FILE_NAME, text.encode())]


def _import_name(path: Path) -> str:
    """How the test imports the app's module: its packages (folders with an __init__.py) up to the first
    folder that is not one, which is on the path when the project runs (`src/pretalx/celery_app.py` ->
    `pretalx.celery_app`)."""
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def _test_settings_load(project: Project, config: CeleryConfig, modules: set[str]) -> bool:
    """Whether every test settings module (a test module named for settings that star-imports others)
    loads the settings modules written to."""
    for name in project.module_names():
        if "settings" in name and project.is_test_module(name):
            summary = project.module(name)
            if summary is not None and summary.star_imports and not modules <= config.loaded_with(name):
                return False
    return True
