"""Reachability: which functions a task reaches, across modules, classes and methods."""

from idem_fix.codemods.engine.project import FunctionKey


def reached(project, task: str = ""):
    """What the project's tasks reach (with `task`, what that task alone reaches)."""
    if task:
        [start] = [t.key for t in project.tasks if t.key.qualname == task]
        return sorted(f"{k.module}:{k.qualname}" for k in project.reachable_from(start))
    return sorted(f"{k.module}:{k.qualname}" for k in project.reach)


def test_task_to_service_class_to_private_method_across_packages(make_project):
    project = make_project({
        "payments/__init__.py": "",
        "payments/services/__init__.py": "",
        "payments/services/payouts.py": """
            from payments.models import Payout

            class CreatePayout:
                def __init__(self, account):
                    self.account = account

                def execute(self):
                    return self._get_or_create_payout()

                def _get_or_create_payout(self):
                    return Payout.objects.create(account=self.account)

                def unused(self):
                    pass
        """,
        "payments/tasks.py": """
            from celery import shared_task
            from .services.payouts import CreatePayout

            @shared_task
            def pay(account):
                CreatePayout(account).execute()
        """,
    })
    assert reached(project) == [
        "payments.services.payouts:CreatePayout.__init__",
        "payments.services.payouts:CreatePayout._get_or_create_payout",
        "payments.services.payouts:CreatePayout.execute",
        "payments.tasks:pay",
    ]
    step = project.reach[FunctionKey("payments.services.payouts", "CreatePayout._get_or_create_payout")]
    assert step.via.qualname == "CreatePayout.execute" and project.reach[step.via].via.qualname == "pay"
    assert step.task.name == "payments.tasks.pay"


def test_instance_in_a_local_variable_and_module_attribute_calls(make_project):
    project = make_project({
        "svc.py": """
            class Booker:
                def book(self):
                    helper()

            def helper():
                pass
        """,
        "util.py": """
            def slugify():
                pass
        """,
        "tasks.py": """
            import util
            from celery import shared_task
            from svc import Booker

            @shared_task
            def run():
                booker = Booker()
                booker.book()
                util.slugify()
        """,
    })
    assert reached(project) == ["svc:Booker.book", "svc:helper", "tasks:run", "util:slugify"]


def test_a_models_own_method_on_a_row_a_query_read_is_reached(make_project):
    project = make_project({
        "models.py": """
            from django.db import models

            class Job(models.Model):
                def retry(self):
                    requeue()

                def archive(self):
                    pass

            def requeue():
                pass
        """,
        "tasks.py": """
            from celery import shared_task
            from models import Job

            @shared_task
            def retry_stuck():
                stuck = Job.objects.filter(status="running")
                for job in stuck[:10]:
                    job.retry()

            @shared_task
            def archive_one(pk):
                job = Job.objects.get(pk=pk)
                job.archive()

            @shared_task
            def archive_first():
                Job.objects.filter(pk__gt=0).first().archive()

            @shared_task
            def count_jobs():
                for pk in Job.objects.values_list("pk", flat=True):
                    pk.retry()
        """,
    })
    assert reached(project, "retry_stuck") == ["models:Job.retry", "models:requeue", "tasks:retry_stuck"]
    assert reached(project, "archive_one") == ["models:Job.archive", "tasks:archive_one"]
    assert reached(project, "archive_first") == ["models:Job.archive", "tasks:archive_first"]
    assert reached(project, "count_jobs") == ["tasks:count_jobs"]  # values, not rows


def test_cycles_terminate(make_project):
    project = make_project({"tasks.py": """
        from celery import shared_task

        def ping(n):
            return pong(n - 1)

        def pong(n):
            return ping(n)

        @shared_task
        def start():
            ping(3)
    """})
    assert reached(project) == ["tasks:ping", "tasks:pong", "tasks:start"]


def test_import_cycle_between_modules_terminates(make_project):
    project = make_project({
        "a.py": """
            from b import g
            def f():
                g()
        """,
        "b.py": """
            from a import f
            def g():
                f()
        """,
        "tasks.py": """
            from celery import shared_task
            from a import f

            @shared_task
            def t():
                f()
        """,
    })
    assert reached(project) == ["a:f", "b:g", "tasks:t"]


def test_inherited_methods_subclass_overrides_and_super(make_project):
    project = make_project({"tasks.py": """
        from celery import shared_task

        class Base:
            def run(self):
                self.step()

            def step(self):
                pass

            def finish(self):
                pass

        class Child(Base):
            def step(self):
                super().finish()

        @shared_task
        def t():
            Child().run()
    """})
    assert reached(project) == ["tasks:Base.finish", "tasks:Base.run", "tasks:Base.step", "tasks:Child.step", "tasks:t"]


def test_reexported_names_through_package_init(make_project):
    project = make_project({
        "shop/__init__.py": "",
        "shop/services/__init__.py": "from .orders import place_order\n",
        "shop/services/orders.py": """
            def place_order():
                pass
        """,
        "shop/tasks.py": """
            from celery import shared_task
            from shop.services import place_order

            @shared_task
            def t():
                place_order()
        """,
    })
    assert "shop.services.orders:place_order" in reached(project)


def test_code_no_task_calls_is_not_reached(make_project):
    project = make_project({"views.py": """
        def view(request):
            pass
    """, "tasks.py": """
        from celery import shared_task

        @shared_task
        def t():
            pass
    """})
    assert reached(project) == ["tasks:t"]


def test_a_module_no_task_file_mentions_is_loaded_on_demand(make_project):
    project = make_project({
        "helpers.py": "def deep():\n    pass\n",
        "tasks.py": """
            from celery import shared_task
            from helpers import deep

            @shared_task
            def t():
                deep()
        """,
    })
    assert "helpers:deep" in reached(project)


def test_a_functions_own_import_wins_over_the_module_level_name_it_shadows(make_project):
    project = make_project({
        "emails/__init__.py": "",
        "emails/services.py": """
            from django.core.mail import send_mail

            def email_send(email):
                send_mail("Hi", "...", None, [email])
        """,
        "emails/tasks.py": """
            from celery import shared_task

            @shared_task
            def email_send(email):
                from emails.services import email_send
                email_send(email)

            @shared_task
            def email_again(email):
                email_send(email)
        """,
    })
    assert project.reachable_from(FunctionKey("emails.tasks", "email_send")) == [
        FunctionKey("emails.tasks", "email_send"), FunctionKey("emails.services", "email_send"),
    ]
    assert project.reachable_from(FunctionKey("emails.tasks", "email_again")) == [
        FunctionKey("emails.tasks", "email_again"), FunctionKey("emails.tasks", "email_send"), FunctionKey("emails.services", "email_send"),
    ]
