"""`idem-fix audit`: the report a team reads before turning on acks_late.

The bundled example project recreates the kinds of task a real hand audit sorted: a welcome email
with a password reset, payouts created in a service class, smart-lock access codes, partner bookings
stored after the API call, mail redirections, onboarding emails, Slack alerts, cleanup deletes, syncs
with update_or_create, and invoices already guarded by an exists() check.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import write_tree
from idem_fix.cli.main import app

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shop"
EXPECTED_RISK = {
    "accounts.tasks.send_host_welcome_email": "critical",  # password reset, then the email
    "payments.tasks.run_monthly_payout": "critical",  # payout created in a service class
    "payments.tasks.issue_invoice": "critical",  # money record
    "integrations.tasks.create_lock_access_code": "high",  # access code on a smart lock
    "integrations.tasks.book_with_partner": "high",  # partner booking stored after the call
    "integrations.tasks.create_mail_redirection": "high",  # mail redirection at the provider
    "bookings.tasks.reserve_room": "moderate",  # duplicate non-financial row
    "bookings.tasks.issue_access_code": "moderate",
    "notifications.tasks.send_onboarding_email": "moderate",  # notification
    "notifications.tasks.alert_ops_on_slack": "moderate",  # Slack alert
    "payments.tasks.store_exchange_rate": "moderate",
    "bookings.tasks.cancel_stale_reservations": "low",  # delete
    "notifications.tasks.purge_cancelled_reservations": "low",  # delete
    "integrations.tasks.sync_access_codes": "low",  # update_or_create from the source of truth
    "payments.tasks.close_month": "low",  # invoice behind an exists() guard
}


def audit(*args, cwd: Path, monkeypatch):
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(app, ["audit", "--no-cache", *args])


@pytest.fixture
def report(monkeypatch):
    result = audit("--format", "json", "examples/shop", cwd=EXAMPLE.parent.parent, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_task_is_found_with_the_risk_a_person_would_give_it(report):
    assert {t["name"]: t["risk"] for t in report["tasks"]} == EXPECTED_RISK


def test_findings_name_the_line_the_side_effect_and_the_fix(report):
    tasks = {t["name"]: t for t in report["tasks"]}
    payout = tasks["payments.tasks.run_monthly_payout"]
    [create] = [f for f in payout["findings"] if f["risk"] == "critical"]
    assert create["path"] == "examples/shop/payments/services/payouts.py"
    assert create["rule"] == "create-to-get-or-create" and create["fixable"] is True
    assert create["applicability"] == "safe" and "uniq_payout_account_period" in create["reason"]
    assert "Payout.objects.create()" in create["message"]
    reserve = tasks["bookings.tasks.reserve_room"]
    [booking] = [f for f in reserve["findings"] if "Reservation" in f["message"]]
    assert booking["rule"] == "create-to-get-or-create" and booking["applicability"] == "manual"
    assert booking["fixable"] is False and "no unique constraint on Reservation" in booking["reason"]
    welcome = tasks["accounts.tasks.send_host_welcome_email"]
    assert any("set_password" in f["message"] and f["risk"] == "critical" for f in welcome["findings"])
    guarded = tasks["payments.tasks.close_month"]
    assert all(f["risk"] == "low" for f in guarded["findings"])
    assert any("already guarded" in f["message"] for f in guarded["findings"])


def test_json_matches_the_documented_schema(report):
    assert set(report) == {"version", "tasks", "config", "unused_suppressions", "summary"}
    for task in report["tasks"]:
        assert set(task) == {"name", "qualname", "path", "line", "risk", "fully_analysed", "acks_late", "findings"}
        assert not Path(task["path"]).is_absolute()
        for finding in task["findings"]:
            assert set(finding) == {
                "rule", "code", "path", "line", "risk", "message", "applicability", "reason", "fixable", "fingerprint",
            }
            assert finding["code"] == finding["rule"] or finding["rule"] == "manual"
            assert len(finding["fingerprint"]) == 20
            assert finding["applicability"] in {"safe", "unsafe", "manual", None}
            assert finding["fixable"] == (finding["applicability"] == "safe")
    for check in report["config"]:
        assert set(check) == {"setting", "value", "path", "line", "status", "message"}
    summary = report["summary"]
    assert summary["tasks"] == len(EXPECTED_RISK)
    assert summary["critical"] == 3 and summary["high"] == 3 and summary["moderate"] == 5 and summary["low"] == 4
    assert summary["not_fully_analysed"] == 0
    assert summary["files"] > 10


def test_celery_configuration_is_read_from_django_settings(report):
    config = {c["setting"]: c for c in report["config"]}
    assert config["task_acks_late"]["value"] == "True"
    assert config["task_acks_late"]["path"] == "examples/shop/shop/settings.py"
    assert config["broker_transport_options"]["status"] == "warning"
    assert "3600" in config["broker_transport_options"]["message"]


def test_visibility_timeout_shorter_than_a_task_time_limit_is_a_risk(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {
        "proj/__init__.py": "",
        "proj/celery.py": """
            from celery import Celery
            app = Celery("proj")
            app.conf.update(task_acks_late=True, broker_transport_options={"visibility_timeout": 600})
            app.conf.broker_url = "redis://localhost:6379/0"
        """,
        "proj/tasks.py": """
            from proj.celery import app

            @app.task(time_limit=1800)
            def export(): pass
        """,
    })
    result = audit("--format", "json", ".", cwd=root, monkeypatch=monkeypatch)
    config = {c["setting"]: c for c in json.loads(result.stdout)["config"]}
    assert config["broker_transport_options"]["status"] == "risk"
    assert "1800" in config["broker_transport_options"]["message"]
    assert config["task_reject_on_worker_lost"]["status"] == "warning"
    assert config["task_acks_late"]["path"] == "proj/celery.py"


def test_old_uppercase_setting_names_count(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {"settings.py": "CELERY_ACKS_LATE = True\nCELERYD_PREFETCH_MULTIPLIER = 1\n",
                                        "tasks.py": "from celery import shared_task\n\n@shared_task\ndef t(): pass\n"})
    result = audit("--format", "json", ".", cwd=root, monkeypatch=monkeypatch)
    config = {c["setting"]: c for c in json.loads(result.stdout)["config"]}
    assert config["task_acks_late"]["value"] == "True"
    assert "worker_prefetch_multiplier" not in config  # 1 is what at-least-once wants


def test_markdown_reads_like_a_hand_written_audit(monkeypatch):
    result = audit("--format", "markdown", "examples/shop", cwd=EXAMPLE.parent.parent, monkeypatch=monkeypatch)
    text = result.stdout
    for heading in ("# Celery task idempotency audit", "## Summary", "## Celery configuration", "## Critical",
                    "## High", "## Moderate", "## Safe to run twice", "## Priority list"):
        assert heading in text
    assert "### `payments.tasks.run_monthly_payout`" in text
    assert "return Payout.objects.create(" in text  # the code itself
    assert "idem-fix apply --rule create-to-get-or-create" in text
    assert text.index("## Critical") < text.index("## High") < text.index("## Moderate")


def test_fail_on_exits_1_at_or_above_the_level(tmp_path, monkeypatch):
    cwd = EXAMPLE.parent.parent
    assert audit("--fail-on", "critical", "examples/shop", cwd=cwd, monkeypatch=monkeypatch).exit_code == 1
    root = write_tree(tmp_path / "p", {"tasks.py": """
        from celery import shared_task
        from django.core.mail import send_mail

        @shared_task
        def notify(): send_mail("s", "b", "f", ["t"])
    """})
    assert audit("--fail-on", "high", ".", cwd=root, monkeypatch=monkeypatch).exit_code == 0
    assert audit("--fail-on", "moderate", ".", cwd=root, monkeypatch=monkeypatch).exit_code == 1
    assert audit("--fail-on", "urgent", ".", cwd=root, monkeypatch=monkeypatch).exit_code == 2


def test_output_file_and_no_progress_bar_off_a_terminal(tmp_path, monkeypatch):
    target = tmp_path / "audit.md"
    result = audit("--format", "markdown", "--output", str(target), "examples/shop", cwd=EXAMPLE.parent.parent,
                   monkeypatch=monkeypatch)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "Reading files" not in result.output
    assert target.read_text().startswith("# Celery task idempotency audit")


def test_table_is_the_default(monkeypatch):
    result = audit("examples/shop", cwd=EXAMPLE.parent.parent, monkeypatch=monkeypatch)
    assert result.exit_code == 0
    assert "payments.tasks.run_monthly_payout" in result.stdout
    assert "15 tasks in" in result.stdout


def test_sarif_is_valid_sarif_2_1_0_for_code_scanning(monkeypatch):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())
    result = audit("--format", "sarif", "examples/shop", cwd=EXAMPLE.parent.parent, monkeypatch=monkeypatch)
    log = json.loads(result.stdout)
    jsonschema.Draft7Validator(schema).validate(log)
    [run] = log["runs"]
    results = run["results"]
    assert {r["level"] for r in results} <= {"error", "warning", "note"}
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert all(rule_ids[r["ruleIndex"]] == r["ruleId"] for r in results)
    payout = [r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
              == "examples/shop/payments/services/payouts.py"]
    assert payout and payout[0]["level"] == "error" and payout[0]["ruleId"] == "create-to-get-or-create"
    assert any(r["ruleId"] == "celery-config" for r in results)
    assert len(rule_ids) == len(set(rule_ids)) and "credential" in rule_ids  # one id per code, manual kinds too
    assert all(len(r["partialFingerprints"]["idemFixFinding/v1"]) == 20 for r in results if r["ruleId"] != "celery-config")
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert rules["create-to-get-or-create"]["help"]["markdown"].startswith("# `create-to-get-or-create`")
    assert "idem-fix: ignore[credential]" in rules["credential"]["help"]["text"]
    broken = dict(log, version="9")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_a_rule_finding_the_function_safe_does_not_hide_another_rule_at_the_same_line(tmp_path, monkeypatch):
    """atomic-multi-create leaves `grant` alone (its two writes are on separate paths), but the create
    still repeats: the finding keeps create-to-get-or-create's words and the audit's risk."""
    root = write_tree(tmp_path / "p", {
        "badges/__init__.py": "",
        "badges/models.py": """
            from django.db import models

            class Badge(models.Model):
                user_id = models.IntegerField()
                kind = models.CharField(max_length=20)
        """,
        "badges/services.py": """
            from .models import Badge

            class BadgeService:
                @staticmethod
                def grant(user_id, kind, repeatable):
                    if repeatable:
                        return Badge.objects.create(user_id=user_id, kind=kind)
                    return Badge.objects.get_or_create(user_id=user_id, kind=kind)[0]
        """,
        "badges/tasks.py": """
            from celery import shared_task
            from .services import BadgeService

            @shared_task
            def grant_badge(user_id, kind):
                BadgeService.grant(user_id, kind, kind == "streak")
        """,
    })
    result = audit("--format", "json", ".", cwd=root, monkeypatch=monkeypatch)
    [task] = json.loads(result.stdout)["tasks"]
    [create] = [f for f in task["findings"] if f["line"] == 7]
    assert (create["rule"], create["risk"], create["applicability"]) == ("create-to-get-or-create", "moderate", "manual")
    assert create["message"].startswith("Badge.objects.create() creates a row")


def test_bulk_create_ignoring_conflicts_is_safe_only_behind_a_unique_constraint(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {
        "tags/__init__.py": "",
        "tags/models.py": """
            from django.db import models

            class Tag(models.Model):
                name = models.CharField(max_length=50, unique=True)

            class Mention(models.Model):
                id = models.BigAutoField(primary_key=True, unique=True)
                name = models.CharField(max_length=50)
        """,
        "tags/tasks.py": """
            from celery import shared_task
            from .models import Mention, Tag

            @shared_task
            def import_tags(names):
                Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)

            @shared_task
            def import_mentions(names):
                Mention.objects.bulk_create([Mention(name=n) for n in names], ignore_conflicts=True)
        """,
    })
    result = audit("--format", "json", ".", cwd=root, monkeypatch=monkeypatch)
    tasks = {t["qualname"]: t for t in json.loads(result.stdout)["tasks"]}
    assert tasks["import_tags"]["risk"] == "low"
    assert "meets the rows Tag.name (unique=True) already holds" in tasks["import_tags"]["findings"][0]["message"]
    assert tasks["import_mentions"]["risk"] == "moderate"
    assert "no unique constraint makes ignore_conflicts skip them" in tasks["import_mentions"]["findings"][0]["message"]


def test_a_folder_without_tasks_says_why_and_how_to_name_a_decorator(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {"pkg/__init__.py": "", "pkg/jobs.py": "def nightly():\n    pass\n"})
    result = audit(".", cwd=root, monkeypatch=monkeypatch)
    assert result.exit_code == 0
    assert "no Celery task found in 2 files" in result.stderr
    assert "task-decorators" in result.stderr


def test_calls_the_analysis_cannot_follow_keep_a_task_out_of_safe_to_run_twice(tmp_path, monkeypatch):
    """A plugin list, getattr(), a registry, a callable passed in: what they run is not analysed, so a task
    that reaches one is "not fully analysed", not "safe to run twice", until a person marks the call."""
    root = write_tree(tmp_path / "p", {
        "jobs/__init__.py": "",
        "jobs/plugins.py": """
            from django.conf import settings
            from django.utils.module_loading import import_string

            EXPORTERS = []
            HANDLERS = {}


            def run_all(job_id, on_done):
                for exporter in EXPORTERS:
                    exporter.export(job_id)
                for path in settings.JOB_HOOKS:
                    import_string(path)(job_id)
                HANDLERS["default"](job_id)
                getattr(job_id, "real")()
                on_done(job_id)


            def apply_hook(job_id, hook):
                hook(job_id)
        """,
        "jobs/tasks.py": """
            from celery import shared_task
            from .plugins import HANDLERS, apply_hook, run_all


            @shared_task
            def run_job(job_id):
                run_all(job_id, print)  # print is named: calling on_done is calling print
                apply_hook(job_id, HANDLERS[job_id])


            @shared_task
            def run_marked(job_id, hook):
                hook(job_id)  # idem-fix: ignore[not-followed]


            @shared_task
            def double(job_id):
                return job_id * 2
        """,
    })
    result = audit("--format", "json", ".", cwd=root, monkeypatch=monkeypatch)
    report = json.loads(result.stdout)
    tasks = {t["qualname"]: t for t in report["tasks"]}
    calls = sorted(f["message"].split(" is not followed")[0] for f in tasks["run_job"]["findings"])
    assert calls == [
        'HANDLERS["default"]()', 'exporter.export()', 'getattr(job_id, "real")()', "hook()", "import_string(path)()",
    ]
    assert not tasks["run_job"]["fully_analysed"] and tasks["run_job"]["risk"] == "low"
    assert tasks["run_marked"]["fully_analysed"] and tasks["double"]["fully_analysed"]
    assert report["summary"]["low"] == 2 and report["summary"]["not_fully_analysed"] == 1
    markdown = audit("--format", "markdown", ".", cwd=root, monkeypatch=monkeypatch).stdout
    safe = markdown.split("## Safe to run twice")[1]
    assert "run_job" not in safe and "run_marked" in safe
    assert "## Not fully analysed" in markdown


def test_harmless_calls_in_configuration_count_as_followed(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {
        "pyproject.toml": """
            [tool.idem-fix]
            harmless-calls = ["progress"]
        """,
        "jobs/__init__.py": "",
        "jobs/tasks.py": """
            from celery import shared_task


            def count(items, progress):
                for number, _ in enumerate(items):
                    progress(number)


            @shared_task
            def count_job(items):
                count(items, print)
        """,
    })
    report = json.loads(audit("--format", "json", ".", cwd=root, monkeypatch=monkeypatch).stdout)
    assert report["tasks"][0]["fully_analysed"]


def test_tasks_that_set_acks_late_themselves_are_shown_and_counted_in_the_setting(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {
        "jobs/__init__.py": "",
        "jobs/base.py": """
            from celery import Task

            class AtLeastOnce(Task):
                acks_late = True
        """,
        "jobs/tasks.py": """
            from celery import shared_task
            from .base import AtLeastOnce

            @shared_task(base=AtLeastOnce)
            def sync(x):
                return x

            @shared_task
            def plain(x):
                return x
        """,
    })
    report = json.loads(audit("--format", "json", ".", cwd=root, monkeypatch=monkeypatch).stdout)
    assert {t["qualname"]: t["acks_late"] for t in report["tasks"]} == {"sync": True, "plain": None}
    [acks_late] = [c for c in report["config"] if c["setting"] == "task_acks_late"]
    assert acks_late["status"] == "warning"
    assert "1 task sets acks_late=True itself (sync): those already run again after a crash" in acks_late["message"]


def test_github_annotations_once_per_site_on_its_line(monkeypatch):
    result = audit("--output-format", "github", "examples/shop", cwd=EXAMPLE.parent.parent, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(line.startswith(("::error file=", "::warning file=")) for line in lines)
    payout = [line for line in lines if "file=examples/shop/payments/services/payouts.py,line=24," in line]
    assert len(payout) == 1 and payout[0].startswith("::error ") and "title=idem-fix create-to-get-or-create::" in payout[0]
    assert len(lines) == len(set(lines))


HAZARDS = """
import anthropic
import requests
import stripe
from celery import shared_task
from django.db import transaction

client = anthropic.Anthropic()


@shared_task
def charge(customer):
    stripe.PaymentIntent.create(amount=100, currency="eur", customer=customer)


@shared_task
def summarise(text):
    client.messages.create(model="m", max_tokens=50, messages=[{"role": "user", "content": text}])


@shared_task
def ping_partner(partner, payload):
    requests.post(partner.webhook_url, json=payload, timeout=5)


@shared_task
def close_order(order_id):
    with transaction.atomic():
        charge.delay(order_id)
    transaction.on_commit(lambda: summarise.delay(order_id))
"""


def test_hazards_named_by_their_service_with_the_fix(tmp_path, monkeypatch):
    write_tree(tmp_path, {"shop/__init__.py": "", "shop/tasks.py": HAZARDS})
    result = audit("--format", "json", ".", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    tasks = {t["name"].rsplit(".", 1)[-1]: t for t in json.loads(result.stdout)["tasks"]}
    assert tasks["charge"]["risk"] == "critical" and "moves money through a payment provider" in tasks["charge"]["findings"][0]["message"]
    [llm] = tasks["summarise"]["findings"]
    assert llm["risk"] == "moderate" and "billed per call" in llm["message"] and "sends" not in llm["message"]
    assert tasks["ping_partner"]["risk"] == "high" and "no delivery id" in tasks["ping_partner"]["findings"][0]["message"]
    close = tasks["close_order"]["findings"]
    inside = [f for f in close if "inside a transaction" in f["message"]]
    assert len(inside) == 1 and inside[0]["line"] == 28  # the on_commit one is a plain enqueue


SHARED_SITE = """
from celery import shared_task
from django.core.mail import send_mail


def tell(address):
    send_mail("Update", "Something changed.", "noreply@example.com", [address])


@shared_task
def tell_owner(address):
    tell(address)


@shared_task
def tell_guest(address):
    tell(address)
"""


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_a_site_shared_by_several_tasks_is_told_once(tmp_path, monkeypatch, fmt):
    write_tree(tmp_path, {"shop/__init__.py": "", "shop/tasks.py": SHARED_SITE})
    result = audit("--format", fmt, ".", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("send_mail() sends a message") == 1  # in tell(), reached by both tasks
    assert "the same" in result.stdout and "site as in" in result.stdout


def test_markdown_a_lead_would_forward(tmp_path, monkeypatch):
    import subprocess

    tasks = HAZARDS.replace("    requests.post(partner.webhook_url, json=payload, timeout=5)",
                            "    requests.post(partner.webhook_url, json=payload, timeout=5)  # idem-fix: ignore[external] -- the partner dedups by payload id")
    write_tree(tmp_path, {"shop/__init__.py": "", "shop/tasks.py": tasks})
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "shop"]):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout[:10]
    text = audit("--format", "markdown", ".", cwd=tmp_path, monkeypatch=monkeypatch).stdout
    assert f"at commit `{commit}` on " in text.split("\n## ")[0]
    assert text.index("## Priority list") < text.index("## Summary") < text.index("## Critical")
    assert "| safe | 0 |" in text and "| unsafe |" in text and "| manual |" in text
    assert "[`shop/tasks.py:12`](shop/tasks.py#L12)" in text  # stripe, linked to its line
    assert "## Accepted risks" in text
    assert "| [`shop/tasks.py:22`](shop/tasks.py#L22) | external | the partner dedups by payload id |" in text
