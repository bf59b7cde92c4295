"""Helpers for the runtime tests: prove by running code that a rule makes tasks idempotent.

A runtime test copies the Django + Celery project in tests/djproject, runs an idem-fix rule on
the copy through the real CLI, then runs a *scenario* against the copy in a fresh Python process
(so Django settings and imported modules never leak between copies or into pytest).

A scenario is a plain function, defined in the test module, that runs inside that process after
Django is set up and the schema is migrated. It returns something JSON-serialisable (row counts,
delivery outcomes); the driver prints it on stdout and `run_scenario` parses it back:

    result = run_scenario(project, scenario_fn, "arg", db=tmp_path / "db.sqlite3")

This file is also the driver itself: `python runtime_helpers.py FILE FUNCTION JSON_ARGS`, with the
project copy as the working directory.
"""
from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_SOURCE = TESTS_DIR / "djproject"
SETTINGS_MODULE = "djproject.settings"
RESULT_MARKER = "IDEMFIX-RESULT "
TIMEOUT = 120
MAX_RETRIES = 5  # retries `deliver` runs for one message before giving up


def copy_project(dest: Path) -> Path:
    """A fresh copy of tests/djproject at `dest` (sources only: no caches, no databases)."""
    shutil.copytree(
        PROJECT_SOURCE, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite3")
    )
    return dest


def apply_rules(project: Path, *rules: str, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run `idem-fix apply --rule R ... [args] .` in `project`, through the real CLI, as a user would."""
    command = [sys.executable, "-m", "idem_fix.cli", "apply"]
    for rule in rules:
        command += ["--rule", rule]
    command += [*args, "."]
    return subprocess.run(
        command, cwd=project, capture_output=True, text=True, timeout=TIMEOUT, env=_clean_env()
    )


def changed_files(project: Path) -> list[str]:
    """Paths (relative, sorted) of the .py files in `project` that differ from tests/djproject."""
    return sorted(
        str(path.relative_to(project))
        for path in project.rglob("*.py")
        if "__pycache__" not in path.parts
        and path.read_bytes() != (PROJECT_SOURCE / path.relative_to(project)).read_bytes()
    )


def run_scenario(
    project: Path,
    scenario: Callable[..., Any],
    *args: Any,
    db: Path,
    env: dict[str, str] | None = None,
) -> Any:
    """Run `scenario(*args)` against `project` in a new process with its own database `db`.

    The scenario must be a module-level function of an importable file (the test module). Fails
    the test, with the process's output, when the driver does not finish cleanly.
    """
    source = Path(scenario.__code__.co_filename).resolve()
    command = [sys.executable, str(Path(__file__).resolve()), str(source), scenario.__name__,
               json.dumps(list(args))]
    full_env = _clean_env()
    full_env["IDEMFIX_DB_PATH"] = str(db)
    full_env.update(env or {})
    proc = subprocess.run(
        command, cwd=project, capture_output=True, text=True, timeout=TIMEOUT, env=full_env
    )
    results = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if proc.returncode != 0 or len(results) != 1:
        raise AssertionError(
            f"scenario {scenario.__name__} failed in {project} (exit {proc.returncode})\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )
    return json.loads(results[0][len(RESULT_MARKER):])


def deliver(task: Any, *args: Any, crash_at: str | None = None, task_id: str | None = None, **kwargs: Any) -> str:
    """Deliver `task` once, as a worker would run it (eager), inside a scenario. A redelivery of one
    message passes the same `task_id` again (a broker redelivers the message, id and all).

    Returns "ok"; "crash" when the armed crash point fired (the worker died after its side
    effect, so the broker redelivers); "retried" when the task asked for a retry and the retry (the
    same task id, run again as a worker runs it) then ended; or the name of the database error that
    refused the run (an IntegrityError is the database stopping a duplicate, not the task being
    idempotent).
    Any other exception propagates and fails the scenario.
    """
    from celery.exceptions import Retry
    from django.db import IntegrityError

    from djproject.faults import CRASH_ENV, InjectedCrash

    if crash_at:
        os.environ[CRASH_ENV] = crash_at
    outcome = "ok"
    try:
        send = functools.partial(task.apply_async, args=args, kwargs=kwargs, task_id=task_id)
        for _ in range(MAX_RETRIES + 1):
            try:
                send()
                break
            except Retry as retry:  # a worker sends the retry message: same task id, retries + 1
                send, outcome = retry.sig.apply_async, "retried"
    except InjectedCrash:
        return "crash"
    except IntegrityError:
        return "IntegrityError"
    finally:
        os.environ.pop(CRASH_ENV, None)
    return outcome


def duplicated(outcomes: list[str], rows: int) -> bool:
    """Did the repeated side effect happen (two rows) or get refused by a constraint?"""
    return rows >= 2 or "IntegrityError" in outcomes


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DJANGO_SETTINGS_MODULE", "IDEMFIX_DB_PATH", "IDEMFIX_CRASH", "PYTHONPATH"):
        env.pop(name, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _drive(source: str, function: str, args_json: str) -> None:
    """Driver body: set up Django for the project in the cwd, migrate, run the scenario."""
    # The project copy must win imports; this tests/ dir stays reachable (for the scenario's own
    # imports) but last, so that tests/djproject can never shadow the copy.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != TESTS_DIR]
    sys.path.insert(0, os.getcwd())
    sys.path.append(str(TESTS_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)

    spec = importlib.util.spec_from_file_location("_idemfix_scenarios", source)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = getattr(module, function)(*json.loads(args_json))
    print(RESULT_MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    _drive(*sys.argv[1:4])
