"""acks-late-config, proven by running: each golden project's patched settings are loaded into a real
Celery app (through Django's settings, a celeryconfig module, app.conf or a settings class, as the
project does) in a fresh interpreter, and app.conf must hold the at-least-once values. The test the rule
writes beside the app is run too, and must fail on the settings as they were before."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "acks-late-config"
PINNED = "proj/test_celery_at_least_once.py"

PINNED_CASES = {  # case -> DJANGO_SETTINGS_MODULE to run its pinning test under (None: the app's own default)
    "namespaced_django_settings_gain_what_is_missing": None,
    "old_names_without_a_namespace_stay_old": None,
    "celeryconfig_module_gets_lowercase_names": None,
    "app_conf_update_in_the_app_module": None,
    "settings_inside_an_if_block_written_after_it": None,
    "split_settings_written_to_base_and_pinned_under_test_settings": "proj.settings.test",
    "class_based_settings_written_in_the_class": None,
    "config_class_gets_lowercase_settings_in_the_class": None,
}

READ_CONF = """
import sys
from celery import Celery
{load}
conf = app.conf
print(conf.task_acks_late, conf.task_reject_on_worker_lost, conf.worker_prefetch_multiplier,
      conf.broker_transport_options.get("visibility_timeout"))
"""
# django-configurations and django-environ are not installed: Configuration is a plain base class here
# (the settings class is read the way Celery reads any object), Env() reads os.environ with a default.
STAND_INS = {
    "configurations.py": "class Configuration:\n    pass\n",
    "environ.py": "import os\n\n\nclass Env:\n    def __call__(self, key, default=None):\n        return os.environ.get(key, default)\n",
}


def _run(root: Path, code: list[str], settings: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    if settings:
        env["DJANGO_SETTINGS_MODULE"] = settings
    env["PYTHONPATH"] = str(root)
    return subprocess.run([sys.executable, *code], cwd=root, env=env, capture_output=True, text=True, timeout=120)


def _project(tmp_path: Path, case: str, side: str) -> Path:
    root = tmp_path / side
    shutil.copytree(GOLDEN / case / side, root)
    for name, text in STAND_INS.items():
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize("case", sorted(PINNED_CASES))
def test_pinning_test_passes_on_the_patched_settings_and_fails_on_the_old(case, tmp_path):
    after = _project(tmp_path, case, "after")
    if case == "class_based_settings_written_in_the_class":  # Django would need django-configurations
        load = "import proj.settings\napp = Celery(set_as_current=False)\napp.config_from_object(proj.settings.Production, namespace='CELERY')"
        result = _run(after, ["-c", READ_CONF.format(load=load)], None)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split()[:3] == ["True", "True", "1"], result.stdout
        return
    result = _run(after, ["-m", "unittest", "-v", PINNED[:-3].replace("/", ".")], PINNED_CASES[case])
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stderr and "test_a_task_is_acknowledged_after_it_runs" in result.stderr
    before = _project(tmp_path, case, "before")
    shutil.copy(after / PINNED, before / PINNED)
    old = _run(before, ["-m", "unittest", PINNED[:-3].replace("/", ".")], PINNED_CASES[case])
    assert old.returncode != 0 and "FAILED" in old.stderr, old.stderr


def test_production_only_settings_hold_under_production_and_are_not_pinned(tmp_path):
    case = "settings_only_production_loads_are_not_pinned"
    after = _project(tmp_path, case, "after")
    assert not (after / PINNED).exists()  # the test settings do not load production.py: a pin would fail there
    result = _run(after, ["-c", READ_CONF.format(load="from proj.celery import app")], "proj.settings.production")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:3] == ["True", "True", "1"], result.stdout


def test_visibility_timeout_reaches_the_redis_transport_options(tmp_path):
    after = _project(tmp_path, "namespaced_django_settings_gain_what_is_missing", "after")
    result = _run(after, ["-c", READ_CONF.format(load="from proj.celery import app") + "print(app.conf.broker_transport_options)"], None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[3] == "43200"
    assert "'max_retries': 3" in result.stdout  # the project's own option is kept
