"""`sent-flag` edge cases: naming, configuration, placement limits, helpers, and the rewrite itself.

Each test writes a tiny project, runs `idem-fix apply --rule sent-flag` on it through the CLI (as
the golden cases do) and reads back the files and the messages.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest
from typer.testing import CliRunner

from idem_fix.cli.main import app
from idem_fix.codemods.sent_flag import rule
from idem_fix.codemods.sent_flag.field import AddField
from idem_fix.codemods.sent_flag.field import flag_name as _flag_name

MODELS = """
    from django.db import models


    class Host(models.Model):
        email = models.EmailField()
"""


def run(tmp_path: Path, files: dict[str, str], *args: str, monkeypatch) -> tuple[str, dict[str, str]]:
    root = tmp_path / "project"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    monkeypatch.chdir(root)
    if "--flag-store" not in args and "sent-flag-store" not in files.get("pyproject.toml", ""):
        args = ("--flag-store", "field", *args)  # these cases are about the per-object flag's mechanics
    result = CliRunner().invoke(app, ["apply", "--rule", "sent-flag", "--no-cache", "--unsafe-fixes", *args, "."])
    assert result.exit_code == 0, result.output
    after = {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.py") if "__pycache__" not in p.parts}
    again = CliRunner().invoke(app, ["apply", "--rule", "sent-flag", "--no-cache", "--unsafe-fixes", *args, "."])
    assert "Rewrote 0 sites" in again.output, f"a second apply changed something:\n{again.output}"
    return result.output, after


@pytest.mark.parametrize(
    "task, model, expected",
    [
        ("send_host_welcome_email", "Host", "welcome_email_sent"),
        ("SendHostWelcomeEmail", "Host", "welcome_email_sent"),
        ("welcome_email_task", "Host", "welcome_email_sent"),
        ("notify_guest_of_checkin", "Guest", "checkin_notified"),
        ("notify_host", "Host", "host_notified"),
        ("send_appointment_reminder_sms", "Appointment", "reminder_sms_sent"),
        ("confirm_booking", "Booking", "confirm_booking_sent"),
        ("send_order_sent", "Order", "sent"),
    ],
)
def test_flag_names_follow_the_task(task, model, expected):
    assert _flag_name(task, model) == expected


def test_a_bad_mode_in_pyproject_is_reported_not_guessed(tmp_path, monkeypatch):
    output, after = run(
        tmp_path,
        {
            "pyproject.toml": '[tool.idem-fix]\nsent-flag-mode = "sometimes"\n',
            "hosts/__init__.py": "",
            "hosts/models.py": MODELS,
            "hosts/tasks.py": """
            from celery import shared_task
            from django.core.mail import send_mail
            from hosts.models import Host

            @shared_task
            def send_host_welcome_email(host_id):
                host = Host.objects.get(pk=host_id)
                send_mail("Hi", "...", None, [host.email])
        """,
        },
        monkeypatch=monkeypatch,
    )
    assert "sent-flag-mode = 'sometimes' is not one of claim-before, mark-after" in output
    assert "BooleanField" not in after["hosts/models.py"]


def test_command_line_mode_wins_over_pyproject(tmp_path, monkeypatch):
    output, after = run(
        tmp_path,
        {
            "pyproject.toml": '[tool.idem-fix]\nsent-flag-mode = "claim-before"\n',
            "hosts/__init__.py": "",
            "hosts/models.py": MODELS,
            "hosts/tasks.py": """
            from celery import shared_task
            from django.core.mail import send_mail
            from hosts.models import Host

            @shared_task
            def send_host_welcome_email(host_id):
                host = Host.objects.get(pk=host_id)
                send_mail("Hi", "...", None, [host.email])
        """,
        },
        "--flag-mode",
        "mark-after",
        monkeypatch=monkeypatch,
    )
    assert "    if host.welcome_email_sent:\n        return\n" in after["hosts/tasks.py"]
    assert after["hosts/tasks.py"].endswith("Host.objects.filter(pk=host.pk).update(welcome_email_sent=True)\n")


def test_two_tasks_never_share_one_flag(tmp_path, monkeypatch):
    output, after = run(
        tmp_path,
        {
            "hosts/__init__.py": "",
            "hosts/models.py": MODELS,
            "hosts/tasks.py": """
            from celery import shared_task
            from django.core.mail import send_mail
            from hosts.models import Host

            @shared_task
            def send_host_welcome_email(host_id):
                host = Host.objects.get(pk=host_id)
                send_mail("Hi", "...", None, [host.email])

            @shared_task(name="hosts.welcome_v2")
            def send_welcome_email(host_id):
                host = Host.objects.get(pk=host_id)
                send_mail("Hi", "...", None, [host.email])
        """,
        },
        monkeypatch=monkeypatch,
    )
    assert after["hosts/models.py"].count("welcome_email_sent") == 1
    assert "is the flag of another task (hosts.tasks.send_host_welcome_email)" in output


def test_mark_after_needs_the_send_not_to_return(tmp_path, monkeypatch):
    output, after = run(
        tmp_path,
        {
            "hosts/__init__.py": "",
            "hosts/models.py": MODELS,
            "hosts/tasks.py": """
            from celery import shared_task
            from django.core.mail import send_mail
            from hosts.models import Host

            @shared_task
            def send_host_welcome_email(host_id):
                host = Host.objects.get(pk=host_id)
                return send_mail("Hi", "...", None, [host.email])
        """,
        },
        "--flag-mode",
        "mark-after",
        monkeypatch=monkeypatch,
    )
    assert "a mark after it would never run" in output
    assert "BooleanField" not in after["hosts/models.py"]


def test_helper_that_checks_its_own_flag_is_left_alone(tmp_path, monkeypatch):
    output, after = run(
        tmp_path,
        {
            "hosts/__init__.py": "",
            "hosts/models.py": MODELS,
            "hosts/emails.py": """
            from django.core.mail import send_mail

            def send_welcome(host):
                if host.welcomed_at:
                    return
                send_mail("Hi", "...", None, [host.email])
        """,
            "hosts/tasks.py": """
            from celery import shared_task
            from hosts.emails import send_welcome
            from hosts.models import Host

            @shared_task
            def welcome_host(host_id):
                send_welcome(Host.objects.get(pk=host_id))
        """,
        },
        monkeypatch=monkeypatch,
    )
    assert "left alone: it already checks `host.welcomed_at` (line 4) before sending in send_welcome" in output


def test_helper_sending_in_a_loop_is_reported(tmp_path, monkeypatch):
    output, _ = run(
        tmp_path,
        {
            "hosts/__init__.py": "",
            "hosts/models.py": MODELS,
            "hosts/emails.py": """
            from django.core.mail import send_mail

            def tell_cohosts(host):
                for cohost in host.cohosts.all():
                    send_mail("New co-host", "...", None, [cohost.email])
        """,
            "hosts/tasks.py": """
            from celery import shared_task
            from hosts.emails import tell_cohosts
            from hosts.models import Host

            @shared_task
            def announce_host(host_id):
                host = Host.objects.get(pk=host_id)
                tell_cohosts(host)
        """,
        },
        monkeypatch=monkeypatch,
    )
    assert "it sends in a loop (tell_cohosts" in output


def test_configured_helper_counts_as_a_send_and_names_the_flag(tmp_path, monkeypatch):
    output, after = run(
        tmp_path,
        {
            "pyproject.toml": '[tool.idem-fix]\nsent-flag-helpers = ["deliver_*"]\n',
            "hosts/__init__.py": "",
            "hosts/models.py": MODELS,
            "hosts/whatsapp.py": """
            import httpx

            def deliver_whatsapp(number, text):
                httpx.post("https://wa.example.com", json={"to": number, "text": text})
        """,
            "hosts/tasks.py": """
            from celery import shared_task
            from hosts.models import Host
            from hosts.whatsapp import deliver_whatsapp

            @shared_task
            def onboard_host(host_id):
                host = Host.objects.get(pk=host_id)
                deliver_whatsapp(host.email, "Welcome")
        """,
        },
        monkeypatch=monkeypatch,
    )
    assert (
        "if not Host.objects.filter(pk=host.pk, whatsapp_sent=False).update(whatsapp_sent=True):"
        in after["hosts/tasks.py"]
    )
    assert "whatsapp_sent = models.BooleanField(default=False)" in after["hosts/models.py"]


def test_claim_inside_a_transaction_says_what_that_means(tmp_path, monkeypatch):
    output, after = run(
        tmp_path,
        {
            "hosts/__init__.py": "",
            "hosts/models.py": MODELS,
            "hosts/tasks.py": """
            from celery import shared_task
            from django.core.mail import send_mail
            from django.db import transaction
            from hosts.models import Host

            @shared_task
            def send_host_welcome_email(host_id):
                with transaction.atomic():
                    host = Host.objects.select_for_update().get(pk=host_id)
                    send_mail("Hi", "...", None, [host.email])
        """,
        },
        monkeypatch=monkeypatch,
    )
    assert "        if not Host.objects.filter(pk=host.pk, welcome_email_sent=False)" in after["hosts/tasks.py"]
    assert "the claim sits inside the transaction opened on line 8" in output


def test_task_class_run_and_two_statements_on_a_line(tmp_path, monkeypatch):
    output, after = run(
        tmp_path,
        {
            "hosts/__init__.py": "",
            "hosts/models.py": MODELS,
            "hosts/tasks.py": """
            from celery import Task
            from django.core.mail import send_mail
            from hosts.models import Host

            class SendHostWelcomeEmail(Task):
                def run(self, host_id):
                    host = Host.objects.get(pk=host_id)
                    send_mail("Hi", "...", None, [host.email])

            class SendHostGoodbyeEmail(Task):
                def run(self, host_id):
                    host = Host.objects.get(pk=host_id); send_mail("Bye", "...", None, [host.email])
        """,
        },
        monkeypatch=monkeypatch,
    )
    assert (
        "if not Host.objects.filter(pk=host.pk, welcome_email_sent=False).update(welcome_email_sent=True):"
        in after["hosts/tasks.py"]
    )
    assert "line 12 holds more than one statement" in output
    assert "goodbye_email_sent" not in after["hosts/models.py"]


def test_async_task_is_reported(tmp_path, monkeypatch):
    output, _ = run(
        tmp_path,
        {
            "hosts/__init__.py": "",
            "hosts/models.py": MODELS,
            "hosts/tasks.py": """
            from celery import shared_task
            from django.core.mail import send_mail
            from hosts.models import Host

            @shared_task
            async def send_host_welcome_email(host_id):
                host = await Host.objects.aget(pk=host_id)
                send_mail("Hi", "...", None, [host.email])
        """,
        },
        monkeypatch=monkeypatch,
    )
    assert "an async task" in output


def test_model_outside_the_given_paths_is_not_half_fixed(tmp_path, monkeypatch):
    root = tmp_path / "project"
    (root / "hosts").mkdir(parents=True)
    (root / "hosts" / "__init__.py").write_text("")
    (root / "hosts" / "models.py").write_text(textwrap.dedent(MODELS).lstrip())
    (root / "hosts" / "tasks.py").write_text(textwrap.dedent("""
        from celery import shared_task
        from django.core.mail import send_mail
        from hosts.models import Host

        @shared_task
        def send_host_welcome_email(host_id):
            host = Host.objects.get(pk=host_id)
            send_mail("Hi", "...", None, [host.email])
    """).lstrip())
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["apply", "--rule", "sent-flag", "--no-cache", "--flag-store", "field", "--unsafe-fixes", "hosts/tasks.py"])
    assert result.exit_code == 0, result.output
    assert "Host.objects.filter" not in (root / "hosts" / "tasks.py").read_text()
    assert "outside the paths given" in result.output


def test_field_added_in_the_style_the_class_uses():
    module = cst.parse_module(textwrap.dedent("""
        from django.db.models import CharField, Model


        class Host(Model):
            \"\"\"A host.\"\"\"

            name = CharField(max_length=10)

            def __str__(self):
                return self.name
    """).lstrip())
    result, applied = rule.transform(
        module, [AddField(4, 0, "Host", "welcome_email_sent"), AddField(4, 0, "Host", "payout_notified")]
    )
    assert len(applied) == 2
    assert result.code == textwrap.dedent("""
        from django.db.models import CharField, Model, BooleanField


        class Host(Model):
            \"\"\"A host.\"\"\"

            name = CharField(max_length=10)
            welcome_email_sent = BooleanField(default=False)
            payout_notified = BooleanField(default=False)

            def __str__(self):
                return self.name
    """).lstrip()


def test_field_added_to_a_class_with_no_fields_yet():
    module = cst.parse_module("from django.db import models as m\n\n\nclass Host(m.Model):\n    pass\n")
    result, applied = rule.transform(module, [AddField(4, 0, "Host", "welcome_email_sent")])
    assert applied and result.code == (
        "from django.db import models as m\n\n\nclass Host(m.Model):\n    welcome_email_sent = m.BooleanField(default=False)\n"
    )


def test_proxy_model_gets_no_field_and_a_settings_switch_is_no_flag(tmp_path, monkeypatch):
    output, after = run(
        tmp_path,
        {
            "hosts/__init__.py": "",
            "hosts/models.py": """
            from django.db import models


            class Person(models.Model):
                email = models.EmailField()


            class Host(Person):
                class Meta:
                    proxy = True
        """,
            "hosts/tasks.py": """
            from celery import shared_task
            from django.conf import settings
            from django.core.mail import send_mail
            from hosts.models import Host

            @shared_task
            def send_host_welcome_email(host_id):
                if not settings.WELCOME_EMAILS_SENT_ENABLED:
                    return
                host = Host.objects.get(pk=host_id)
                send_mail("Hi", "...", None, [host.email])
        """,
        },
        monkeypatch=monkeypatch,
    )
    assert "Host is a proxy model, which cannot have fields of its own" in output
    assert "left alone:" not in output
    assert "welcome_email_sent" not in after["hosts/models.py"]


def test_a_task_flagged_by_hand_keeps_its_flag_whatever_the_file_order(tmp_path, monkeypatch):
    output, after = run(
        tmp_path,
        {
            "hosts/__init__.py": "",
            "hosts/models.py": """
            from django.db import models


            class Host(models.Model):
                email = models.EmailField()
                welcome_email_sent = models.BooleanField(default=False)
        """,
            "hosts/a_tasks.py": """
            from celery import shared_task
            from django.core.mail import send_mail
            from hosts.models import Host

            @shared_task
            def send_welcome_email(host_id):
                host = Host.objects.get(pk=host_id)
                send_mail("Hi again", "...", None, [host.email])
        """,
            "hosts/b_tasks.py": """
            from celery import shared_task
            from django.core.mail import send_mail
            from hosts.models import Host

            @shared_task
            def send_host_welcome_email(host_id):
                host = Host.objects.get(pk=host_id)
                if host.welcome_email_sent:
                    return
                send_mail("Hi", "...", None, [host.email])
                Host.objects.filter(pk=host.pk).update(welcome_email_sent=True)
        """,
        },
        monkeypatch=monkeypatch,
    )
    assert "is the flag of another task (hosts.b_tasks.send_host_welcome_email)" in output
    assert "Host.objects.filter" not in after["hosts/a_tasks.py"]


def test_early_exit_returns_the_task_value_only_when_it_is_bound_before_the_claim(tmp_path, monkeypatch):
    output, after = run(
        tmp_path,
        {
            "hosts/__init__.py": "",
            "hosts/models.py": MODELS,
            "hosts/tasks.py": """
            from celery import shared_task
            from django.core.mail import send_mail
            from django.db import transaction
            from hosts.models import Host

            @shared_task
            def send_host_welcome_email(host_id):
                host = Host.objects.get(pk=host_id)
                send_mail("Hi", "...", None, [host.email])
                return host.pk

            @shared_task
            def send_host_goodbye_email(host_id):
                with transaction.atomic():
                    host = Host.objects.get(pk=host_id)
                    send_mail("Bye", "...", None, [host.email])
                    result = host.pk
                return result
        """,
        },
        monkeypatch=monkeypatch,
    )
    tasks = after["hosts/tasks.py"]
    assert "update(welcome_email_sent=True):\n        return host.pk\n" in tasks
    assert "update(goodbye_email_sent=True):\n            return\n" in tasks


def test_cache_key_survives_odd_task_names_and_a_local_named_cache_is_reported(tmp_path, monkeypatch):
    output, after = run(
        tmp_path,
        {
            "hosts/__init__.py": "",
            "hosts/models.py": MODELS,
            "hosts/tasks.py": """
            from celery import shared_task
            from django.core.mail import send_mail
            from hosts.models import Host

            @shared_task(name='hosts.welcome{v2}"')
            def send_host_welcome_email(host_id):
                host = Host.objects.get(pk=host_id)
                send_mail("Hi", "...", None, [host.email])

            @shared_task
            def send_host_goodbye_email(cache):
                host = Host.objects.get(pk=cache)
                send_mail("Bye", "...", None, [host.email])
        """,
        },
        "--flag-store",
        "cache",
        monkeypatch=monkeypatch,
    )
    tasks = after["hosts/tasks.py"]
    key = r'f"sent-flag:hosts.welcome{{v2}}\":{send_host_welcome_email.request.id}"'
    assert f"if send_host_welcome_email.request.id and not cache.add({key}, True, timeout=60 * 60 * 24 * 7):" in tasks
    assert "uses the name `cache` for something else" in output
    assert tasks.count("cache.add") == 1
    compile(tasks, "tasks.py", "exec")


def test_a_task_also_called_as_a_plain_function_gets_no_claim_on_its_task_id(tmp_path, monkeypatch):
    output, after = run(
        tmp_path,
        {
            "hosts/__init__.py": "",
            "hosts/models.py": MODELS,
            "hosts/tasks.py": """
            from celery import shared_task
            from django.core.mail import send_mail
            from hosts.models import Host

            @shared_task
            def send_host_welcome_email(host_id):
                host = Host.objects.get(pk=host_id)
                send_mail("Hi", "...", None, [host.email])

            @shared_task
            def check_in(host_id):
                send_host_welcome_email(host_id)
        """,
        },
        "--flag-store", "cache",
        monkeypatch=monkeypatch,
    )
    assert "check_in() (hosts/tasks.py) also calls it as a plain function, where its request id is None" in output
    assert "send_host_welcome_email.request.id" not in after["hosts/tasks.py"]
