"""Celery task discovery: every form a real project writes a task in."""

from idem_fix.codemods.engine.config import Config

MODELS = """
from django.db import models
"""


def task_names(project):
    return sorted(t.key.qualname for t in project.tasks)


def test_shared_task_with_and_without_arguments(make_project):
    project = make_project({"app/__init__.py": "", "app/tasks.py": """
        from celery import shared_task

        @shared_task
        def plain(): pass

        @shared_task(bind=True, max_retries=3)
        def bound(self): pass

        def not_a_task(): pass
    """})
    assert task_names(project) == ["bound", "plain"]


def test_import_aliases_and_module_imports(make_project):
    project = make_project({"tasks.py": """
        import celery
        from celery import shared_task as st

        @st
        def aliased(): pass

        @celery.shared_task()
        def through_module(): pass
    """})
    assert task_names(project) == ["aliased", "through_module"]


def test_app_task_on_an_app_defined_elsewhere_under_another_name(make_project):
    project = make_project({
        "proj/__init__.py": "",
        "proj/worker.py": """
            from celery import Celery
            queue = Celery("proj")
        """,
        "proj/jobs.py": """
            from proj.worker import queue as q

            @q.task(bind=True)
            def sync(self): pass

            @q.task
            def sync_plain(): pass
        """,
    })
    assert task_names(project) == ["sync", "sync_plain"]


def test_app_task_on_an_app_from_outside_the_scanned_tree(make_project):
    project = make_project({"tasks.py": """
        from myproject.celery import app

        @app.task
        def work(): pass
    """})
    assert task_names(project) == ["work"]


def test_old_style_task_and_periodic_task(make_project):
    project = make_project({"tasks.py": """
        from celery.decorators import periodic_task
        from celery.task import task

        @task
        def old(): pass

        @periodic_task(run_every=60)
        def every_minute(): pass
    """})
    assert task_names(project) == ["every_minute", "old"]


def test_a_task_decorator_from_another_library_is_not_a_celery_task(make_project):
    project = make_project({"flows.py": """
        from prefect import task

        @task
        def step(): pass
    """})
    assert task_names(project) == []


def test_class_based_tasks_through_a_chain_of_project_bases(make_project):
    project = make_project({
        "base.py": """
            from celery import Task

            class BaseTask(Task):
                abstract = True
        """,
        "sync.py": """
            from base import BaseTask

            class Sync(BaseTask):
                def run(self, pk):
                    pass

            class NotATask:
                def run(self):
                    pass
        """,
    })
    assert task_names(project) == ["Sync.run"]


def test_app_task_registration_of_a_plain_function(make_project):
    project = make_project({"jobs.py": """
        from celery import Celery
        app = Celery()

        def cleanup():
            pass

        cleanup_task = app.task(cleanup)
    """})
    assert task_names(project) == ["cleanup"]


def test_tasks_inside_feature_flag_blocks(make_project):
    project = make_project({"tasks.py": """
        from django.conf import settings
        from celery import shared_task

        if settings.BILLING_ENABLED:
            @shared_task
            def bill(): pass
    """})
    assert task_names(project) == ["bill"]


def test_project_wrapper_that_applies_shared_task_is_a_task_decorator(make_project):
    project = make_project({
        "utils.py": """
            from celery import shared_task

            def cron_task(fn):
                return shared_task(with_lock(fn))

            def with_lock(fn):
                return fn
        """,
        "tasks.py": """
            from utils import cron_task, with_lock

            @cron_task
            def nightly(): pass

            @with_lock
            def not_a_task(): pass
        """,
    })
    assert task_names(project) == ["nightly"]


def test_decorators_named_in_config(make_project):
    project = make_project(
        {"tasks.py": """
            from vendor.jobs import locked_job

            @locked_job(key="x")
            def sync(): pass
        """},
        config=Config(task_decorators=["vendor.jobs.locked_job"]),
    )
    assert task_names(project) == ["sync"]


def test_task_name_option_is_reported(make_project):
    project = make_project({"tasks.py": """
        from celery import shared_task

        @shared_task(name="billing.charge")
        def charge(): pass
    """})
    assert [t.name for t in project.tasks] == ["billing.charge"]


def test_wrapper_used_in_a_file_that_never_says_task(make_project):
    project = make_project({
        "scheduling.py": """
            from celery import shared_task

            def cron(fn):
                return shared_task(fn)
        """,
        "billing.py": """
            from scheduling import cron

            @cron
            def close_month(): pass
        """,
    })
    assert task_names(project) == ["close_month"]


def test_task_names_start_at_the_outermost_package_as_celery_names_them(make_project):
    """backend/src/ is a sys.path entry, not a package: Celery calls the task shop.tasks.ship, and so do we;
    a folder with no __init__.py at all keeps the name from the run's folder."""
    project = make_project({
        "backend/src/shop/__init__.py": "",
        "backend/src/shop/orders/__init__.py": "",
        "backend/src/shop/orders/tasks.py": """
            from celery import shared_task

            @shared_task
            def ship(): pass

            @shared_task(name="orders.refund")
            def refund(): pass
        """,
        "scripts/jobs.py": """
            from celery import shared_task

            @shared_task
            def nightly(): pass
        """,
    })
    assert sorted(t.name for t in project.tasks) == ["orders.refund", "scripts.jobs.nightly", "shop.orders.tasks.ship"]


def test_decorator_aliases_bound_by_assignment(make_project):
    """`project_task = shared_task`, a configured call of it, and a partial of it are task decorators
    wherever they are imported; a plain helper bound the same way is not."""
    project = make_project({
        "core/__init__.py": "",
        "core/celery.py": """
            from functools import partial

            from celery import shared_task

            project_task = shared_task
            task_with_retry = shared_task(acks_late=True, autoretry_for=(ConnectionError,))
            retrying = partial(shared_task, bind=True, max_retries=3)
            timing = print
        """,
        "app/__init__.py": "",
        "app/tasks.py": """
            from core.celery import project_task, retrying, task_with_retry, timing

            @project_task
            def plain(): pass

            @task_with_retry
            def called(): pass

            @retrying
            def partly(self): pass

            @timing
            def not_a_task(): pass
        """,
    })
    assert task_names(project) == ["called", "partly", "plain"]


def test_alias_of_an_app_task_used_through_its_module(make_project):
    project = make_project({
        "pkg/__init__.py": "",
        "pkg/core/__init__.py": "",
        "pkg/core/worker.py": """
            from celery import Celery

            app = Celery("pkg")
            job = app.task(bind=True)
        """,
        "pkg/jobs.py": """
            from pkg.core import worker

            @worker.job
            def sync(self): pass
        """,
    })
    assert task_names(project) == ["sync"]


def test_configured_decorator_used_through_its_module(make_project):
    project = make_project(
        {
            "pkg/__init__.py": "",
            "pkg/core/__init__.py": "",
            "pkg/core/scheduling.py": """
                def locked(key):
                    return lambda fn: fn
            """,
            "pkg/jobs.py": """
                from pkg.core import scheduling

                @scheduling.locked(key="nightly")
                def nightly(): pass
            """,
        },
        config=Config(task_decorators=["pkg.core.scheduling.locked"]),
    )
    assert task_names(project) == ["nightly"]


def test_app_re_exported_by_the_package_that_holds_its_module(make_project):
    """The cookiecutter-django layout: config/__init__.py re-exports the app under the name of the
    module that defines it, and tasks import it from the package."""
    project = make_project({
        "config/__init__.py": """
            from .celery_app import app as celery_app

            __all__ = ("celery_app",)
        """,
        "config/celery_app.py": """
            from celery import Celery

            app = Celery("site")
        """,
        "users/__init__.py": "",
        "users/tasks.py": """
            from config import celery_app

            @celery_app.task()
            def get_users_count(): pass
        """,
    })
    assert task_names(project) == ["get_users_count"]


def test_tasks_in_a_migrations_package(make_project):
    project = make_project({
        "app/__init__.py": "",
        "app/migrations/__init__.py": "",
        "app/migrations/0001_initial.py": """
            from django.db import migrations

            class Migration(migrations.Migration):
                operations = []
        """,
        "app/migrations/tasks/__init__.py": "",
        "app/migrations/tasks/backfill.py": """
            from celery import shared_task

            @shared_task
            def backfill(): pass
        """,
    })
    assert [t.name for t in project.tasks] == ["app.migrations.tasks.backfill.backfill"]


def test_options_a_task_sets_itself_from_its_decorator_alias_and_base_class(make_project):
    """As Celery reads them: the decorator's keywords over the alias's over the base class's, and a
    subclass's attributes over its bases'."""
    project = make_project({
        "core/__init__.py": "",
        "core/celery.py": """
            from celery import Task, shared_task

            at_least_once = shared_task(acks_late=True, reject_on_worker_lost=True)

            class LateTask(Task):
                acks_late = True

            class EarlyTask(LateTask):
                acks_late = False
        """,
        "app/__init__.py": "",
        "app/tasks.py": """
            from celery import shared_task
            from core.celery import EarlyTask, LateTask, at_least_once

            @at_least_once
            def through_alias(): pass

            @shared_task(base=LateTask)
            def through_base(): pass

            @shared_task(base=LateTask, acks_late=False)
            def decorator_wins(): pass

            @shared_task(base=EarlyTask)
            def subclass_wins(): pass

            class Cleanup(LateTask):
                def run(self): pass

            @shared_task
            def global_setting(): pass
        """,
    })
    options = {t.key.qualname: t.options for t in project.tasks}
    assert options == {
        "through_alias": {"acks_late": True, "reject_on_worker_lost": True},
        "through_base": {"acks_late": True},
        "decorator_wins": {"acks_late": False},
        "subclass_wins": {"acks_late": False},
        "Cleanup.run": {"acks_late": True},
        "global_setting": {},
    }


def test_src_layout_names_tasks_from_inside_src(make_project):
    """A top-level src/ that is not a package is an import root, also for namespace packages inside it."""
    project = make_project({
        "src/documents/tasks.py": """
            from celery import shared_task

            @shared_task
            def consume(): pass
        """,
    })
    assert [t.name for t in project.tasks] == ["documents.tasks.consume"]


def test_src_setting_names_other_import_roots(make_project, tmp_path):
    root = tmp_path / "project"
    project = make_project(
        {"backend/app/jobs/tasks.py": """
            from celery import shared_task

            @shared_task
            def nightly(): pass
        """},
        config=Config(src=[root / "backend" / "app"]),
    )
    assert [t.name for t in project.tasks] == ["jobs.tasks.nightly"]
