"""Celery settings read as Celery will see them: environment defaults, annotations, arithmetic,
class-based settings, the name Celery reads when two are written, and names it ignores."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from conftest import write_tree
from idem_fix.cli.main import app

TASKS = """
from celery import shared_task


@shared_task(time_limit=5400)
def nightly_export():
    pass
"""


def config_of(tmp_path, monkeypatch, files: dict[str, str]) -> dict[str, dict]:
    root = write_tree(tmp_path / "p", {"shop/__init__.py": "", "shop/tasks.py": TASKS, **files})
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["audit", "--no-cache", "--format", "json", "."])
    assert result.exit_code == 0, result.output
    return {c["setting"]: c for c in json.loads(result.stdout)["config"]}


def test_values_from_the_environment_arithmetic_and_annotations(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {"shop/settings.py": """
        import os
        from typing import Final

        import environ

        env = environ.Env()
        HOUR = 60 * 60
        CELERY_TASK_ACKS_LATE: Final[bool] = env.bool("CELERY_ACKS_LATE", default=True)
        CELERY_TASK_REJECT_ON_WORKER_LOST = True
        CELERY_BROKER_URL = os.getenv("BROKER_URL", "redis://localhost:6379/0")
        CELERY_BROKER_TRANSPORT_OPTIONS = {
            "visibility_timeout": int(os.getenv("VISIBILITY_TIMEOUT", "2100")),
        }
        CELERY_TASK_TIME_LIMIT = 2 * HOUR
    """})
    acks_late = config["task_acks_late"]
    assert (acks_late["path"], acks_late["line"], acks_late["status"]) == ("shop/settings.py", 8, "warning")
    assert acks_late["message"].startswith("from $CELERY_ACKS_LATE, default True: on")
    visibility = config["broker_transport_options"]
    assert visibility["status"] == "risk"
    assert "visibility_timeout = 2100 s" in visibility["message"] and "7200 s" in visibility["message"]
    assert "from $VISIBILITY_TIMEOUT, default \"2100\"" in visibility["message"]
    assert "\n" not in visibility["value"]


def test_class_based_settings_are_read(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {"shop/settings.py": """
        from configurations import Configuration


        class Production(Configuration):
            CELERY_TASK_ACKS_LATE = True
            CELERY_TASK_REJECT_ON_WORKER_LOST = True
    """})
    assert (config["task_acks_late"]["value"], config["task_acks_late"]["line"]) == ("True", 5)
    assert config["task_reject_on_worker_lost"]["status"] == "info"


def test_the_current_name_wins_over_a_deprecated_one_and_production_over_base(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {
        "shop/settings/__init__.py": "",
        "shop/settings/base.py": """
            CELERY_ACKS_LATE = False
            CELERY_TASK_ACKS_LATE = False
        """,
        "shop/settings/production.py": """
            from .base import *  # noqa

            CELERY_TASK_ACKS_LATE = True
            CELERYD_PREFETCH_MULTIPLIER = 8
        """,
    })
    acks_late = config["task_acks_late"]
    assert (acks_late["path"], acks_late["line"], acks_late["value"]) == ("shop/settings/production.py", 3, "True")


def test_a_namespaced_name_celery_ignores_is_flagged(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {"shop/settings.py": """
        CELERY_TASK_ACKS_LATE = True
        CELERY_PREFETCH_MULTIPLIER = 1
    """})
    ignored = config["CELERY_PREFETCH_MULTIPLIER"]
    assert (ignored["status"], ignored["line"]) == ("warning", 2)
    assert "Celery reads CELERY_WORKER_PREFETCH_MULTIPLIER" in ignored["message"]
    assert config["worker_prefetch_multiplier"]["value"] == 4  # the default still applies


def test_with_acks_late_off_redis_redelivers_only_reserved_messages(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {"shop/settings.py": """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
    """})
    visibility = config["broker_transport_options"]
    assert visibility["status"] == "info"
    assert "reserved but has not started" in visibility["message"]


def test_a_missing_setting_says_where_it_belongs(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {"shop/settings.py": """
        DEBUG = False
        CELERY_TASK_ACKS_LATE = True
    """})
    prefetch = config["worker_prefetch_multiplier"]
    assert prefetch["path"] == "" and prefetch["message"].endswith("(not set: it belongs in shop/settings.py, after line 2)")


def test_without_celery_settings_the_settings_module_the_app_reads_is_named(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {
        "shop/settings/__init__.py": "",
        "shop/settings/production.py": "DEBUG = False\n",
        "shop/settings/local.py": "DEBUG = True\n",
        "shop/celery.py": """
            import os

            from celery import Celery

            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings.production")
            app = Celery("shop")
            app.config_from_object("django.conf:settings", namespace="CELERY")
        """,
    })
    assert config["task_acks_late"]["message"].endswith("(not set: it belongs in shop/settings/production.py)")


def test_a_countdown_longer_than_the_visibility_timeout_is_delivered_again_and_again(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {
        "shop/settings.py": """
            CELERY_BROKER_URL = "redis://localhost:6379/0"
        """,
        "shop/reminders.py": """
            from .tasks import nightly_export


            def schedule_reminder():
                nightly_export.apply_async(countdown=2 * 60 * 60)
        """,
    })
    visibility = config["broker_transport_options"]
    assert visibility["status"] == "risk"
    assert "waits 7200 s for its countdown / eta (shop/reminders.py:5)" in visibility["message"]


def test_a_redis_branch_chosen_by_the_environment_is_checked(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {"shop/settings.py": """
        import os

        CELERY_TASK_ACKS_LATE = True
        if os.getenv("USE_REDIS"):
            CELERY_BROKER_URL = os.getenv("REDIS_URL", "redis://localhost:6379/1")
        else:
            CELERY_BROKER_URL = "amqp://guest:guest@localhost:5672//"
    """})
    visibility = config["broker_transport_options"]
    assert visibility["status"] == "risk"
    assert visibility["message"].startswith("when the settings choose redis (shop/settings.py:5): ")
    assert "shop.tasks.nightly_export (time_limit) may run 5400 s" in visibility["message"]


def test_the_broker_given_to_the_app_counts(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {"shop/celery.py": """
        from celery import Celery

        app = Celery("shop", broker="redis://localhost:6379/0")
        app.conf.task_acks_late = True
    """})
    assert config["broker_transport_options"]["status"] == "risk"


def test_computed_transport_options_are_not_read_as_the_default(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {"shop/settings.py": """
        from .aws import transport_options

        CELERY_TASK_ACKS_LATE = True
        CELERY_BROKER_URL = "sqs://"
        CELERY_BROKER_TRANSPORT_OPTIONS = transport_options()
    """})
    visibility = config["broker_transport_options"]
    assert visibility["status"] == "info" and visibility["message"].startswith("computed, so its visibility_timeout cannot be read")
    assert "3600" not in visibility["message"]


def test_the_claim_store_is_named_shared_or_per_process(tmp_path, monkeypatch):
    shared = config_of(tmp_path / "a", monkeypatch, {"shop/settings.py": """
        CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://r:6379/2"}}
    """})["CACHES default"]
    assert (shared["status"], shared["value"], shared["path"], shared["line"]) == (
        "ok", "django.core.cache.backends.redis.RedisCache", "shop/settings.py", 1)
    alone = config_of(tmp_path / "b", monkeypatch, {"shop/settings.py": "DEBUG = False\n"})["CACHES default"]
    assert alone["status"] == "info" and "LocMemCache" in alone["message"]


def test_django_settings_read_without_a_namespace_ignore_the_namespaced_names(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {
        "shop/celery.py": """
            from celery import Celery

            app = Celery("shop")
            app.config_from_object("django.conf:settings")
        """,
        "shop/settings.py": """
            CELERY_TASK_ACKS_LATE = True
            CELERY_REJECT_ON_WORKER_LOST = True
        """,
    })
    ignored = config["CELERY_TASK_ACKS_LATE"]
    assert (ignored["path"], ignored["line"], ignored["status"]) == ("shop/settings.py", 1, "warning")
    assert ignored["message"].endswith("Celery reads CELERY_ACKS_LATE")
    assert config["task_acks_late"]["value"] is False  # not set: what Celery reads is its default
    reject = config["task_reject_on_worker_lost"]  # the old name, read without a namespace
    assert (reject["path"], reject["line"]) == ("shop/settings.py", 2)


def test_a_celeryconfig_module_counts_only_when_an_app_reads_it(tmp_path, monkeypatch):
    files = {
        "shop/worker.py": """
            from celery import Celery

            app = Celery("shop")
            app.config_from_object("shop.celeryconfig")
        """,
        "shop/celeryconfig.py": "broker_url = 'redis://cache:6379/0'\ntask_acks_late = True\n",
        "shop/helpers.py": "task_acks_late = False  # a variable of its own, not a setting\n",
    }
    config = config_of(tmp_path, monkeypatch, files)
    acks_late = config["task_acks_late"]
    assert (acks_late["path"], acks_late["line"], acks_late["value"]) == ("shop/celeryconfig.py", 2, "True")
    assert "broker_transport_options" in config  # the Redis broker it names is checked


def test_an_eta_a_day_ahead_outlasts_the_visibility_timeout(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {
        "shop/settings.py": 'CELERY_BROKER_URL = "redis://cache:6379/0"\nCELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 7200}\n',
        "shop/reminders.py": """
            from datetime import timedelta

            from celery import shared_task
            from django.utils import timezone


            @shared_task
            def remind(order_id):
                pass


            @shared_task
            def plan_reminders(order_id):
                remind.apply_async((order_id,), eta=timezone.now() + timedelta(days=1, hours=2))
        """,
    })
    check = config["broker_transport_options"]
    assert check["status"] == "risk"
    assert "waits 93600 s for its countdown / eta (shop/reminders.py:14)" in check["message"]


def test_result_store_shared_per_process_or_none(tmp_path, monkeypatch):
    def result_backend(line: str) -> dict:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))  # a project of its own for each value
        return config_of(folder, monkeypatch, {"shop/settings.py": line})["result_backend"]

    assert result_backend('CELERY_RESULT_BACKEND = "django-db"\n')["status"] == "ok"
    in_memory = result_backend('CELERY_RESULT_BACKEND = "cache+memory://"\n')
    assert (in_memory["status"], in_memory["path"], in_memory["line"]) == ("warning", "shop/settings.py", 1)
    assert "each worker process keeps its own results" in in_memory["message"]
    assert result_backend("CELERY_RESULT_BACKEND = None\n")["message"].startswith("none: results are not stored")


def test_a_config_class_read_by_config_from_object(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {
        "shop/worker.py": """
            from celery import Celery

            from .celery_settings import WorkerConfig


            class LocalConfig:
                task_acks_late = False


            app = Celery("shop")
            app.config_from_object(WorkerConfig)
        """,
        "shop/celery_settings.py": """
            class WorkerConfig:
                broker_url = "redis://cache:6379/0"
                task_acks_late = True
        """,
    })
    acks_late = config["task_acks_late"]
    assert (acks_late["path"], acks_late["line"], acks_late["value"]) == ("shop/celery_settings.py", 3, "True")


def test_the_markdown_table_keeps_its_columns_when_a_value_holds_a_pipe(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {"shop/__init__.py": "", "shop/tasks.py": TASKS, "shop/settings.py": """
        BASE_OPTIONS = {"max_retries": 3}
        CELERY_BROKER_URL = "redis://cache:6379/0"
        CELERY_BROKER_TRANSPORT_OPTIONS = BASE_OPTIONS | {
            "visibility_timeout": 60,
        }
    """})
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["audit", "--no-cache", "--format", "markdown", "."])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if line.startswith("| `broker_transport_options`"))
    assert len(row.replace("\\|", "").split("|")) == 7, row  # five cells, nothing spilled over
    assert "BASE_OPTIONS \\| {" in row


def test_a_project_cache_class_built_on_the_database_cache_is_shared(tmp_path, monkeypatch):
    config = config_of(tmp_path, monkeypatch, {
        "shop/cache.py": """
            from django.core.cache.backends.db import DatabaseCache


            class AuditedDatabaseCache(DatabaseCache):
                pass
        """,
        "shop/settings.py": 'CELERY_BROKER_URL = "redis://cache:6379/0"\nCACHES = {"default": {"BACKEND": "shop.cache.AuditedDatabaseCache", "LOCATION": "cache"}}\n',
    })
    store = config["CACHES default"]
    assert (store["status"], store["value"]) == ("ok", "shop.cache.AuditedDatabaseCache")
