"""Examples of acks-late-config, run as tests by tests/test_rule_examples.py: each project lacks one
at-least-once setting."""

from ..engine.examples import Example

CELERY_APP = """
    import os

    from celery import Celery

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")

    app = Celery("proj")
    app.config_from_object("django.conf:settings", namespace="CELERY")
"""
TASKS = """
    from celery import shared_task


    @shared_task
    def refresh_rates():
        return 1
"""


def project(settings: str) -> dict[str, str]:
    return {"proj/__init__.py": "", "proj/celery.py": CELERY_APP, "proj/settings.py": settings, "proj/tasks.py": TASKS}


PINNED = '''
    """Celery runs each task at least once here: these settings make a task whose worker dies run again
    instead of being lost (written by idem-fix acks-late-config). A change that turns one off fails this
    test rather than silently losing tasks again."""

    import unittest

    from proj.celery import app


    class CeleryAtLeastOnceTests(unittest.TestCase):
        def test_a_task_is_acknowledged_after_it_runs(self):
            self.assertIs(app.conf.task_acks_late, True)

        def test_a_task_whose_worker_is_killed_is_delivered_again(self):
            self.assertIs(app.conf.task_reject_on_worker_lost, True)

        def test_a_worker_process_reserves_one_message_at_a_time(self):
            self.assertEqual(app.conf.worker_prefetch_multiplier, 1)
'''

EXAMPLES = [
    Example(
        "acks_late_written_off_is_turned_on",
        project("""
            CELERY_BROKER_URL = "amqp://guest@rabbitmq//"
            CELERY_TASK_ACKS_LATE = False
            CELERY_TASK_REJECT_ON_WORKER_LOST = True
            CELERY_WORKER_PREFETCH_MULTIPLIER = 1
        """),
        "safe",
        "a literal in the module Celery reads",
        fixed={
            "proj/settings.py": """
                CELERY_BROKER_URL = "amqp://guest@rabbitmq//"
                CELERY_TASK_ACKS_LATE = True
                CELERY_TASK_REJECT_ON_WORKER_LOST = True
                CELERY_WORKER_PREFETCH_MULTIPLIER = 1
            """,
            "proj/test_celery_at_least_once.py": PINNED,
        },
    ),
    Example(
        "prefetch_the_project_chose_is_a_guess",
        project("""
            CELERY_BROKER_URL = "amqp://guest@rabbitmq//"
            CELERY_TASK_ACKS_LATE = True
            CELERY_TASK_REJECT_ON_WORKER_LOST = True
            CELERY_WORKER_PREFETCH_MULTIPLIER = 8
        """),
        "unsafe",
        "the project chose 8",
        fixed={
            "proj/settings.py": """
                CELERY_BROKER_URL = "amqp://guest@rabbitmq//"
                CELERY_TASK_ACKS_LATE = True
                CELERY_TASK_REJECT_ON_WORKER_LOST = True
                CELERY_WORKER_PREFETCH_MULTIPLIER = 1
            """,
            "proj/test_celery_at_least_once.py": PINNED,
        },
    ),
    Example(
        "acks_late_from_the_environment_left_to_a_person",
        project("""
            import environ

            env = environ.Env()

            CELERY_BROKER_URL = "amqp://guest@rabbitmq//"
            CELERY_TASK_ACKS_LATE = env.bool("CELERY_ACKS_LATE", default=False)
            CELERY_TASK_REJECT_ON_WORKER_LOST = True
            CELERY_WORKER_PREFETCH_MULTIPLIER = 1
        """),
        "manual",
        "read from $CELERY_ACKS_LATE, default False: set it where the workers' environment is configured",
    ),
]
