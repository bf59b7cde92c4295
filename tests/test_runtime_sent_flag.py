"""Proof by running: `sent-flag` makes the welcome task send one email, with a password that works.

tests/djproject/onboarding/tasks.py:send_host_welcome_email resets the host's password, then emails
it. Redelivered (the same message, the same task id, run again), the unpatched task sends two emails
and the first one's password no longer works. Patched, the redelivery returns before the reset: one
email, and its password is the user's password. A crash right after the send, then a redelivery,
must give the same result.

Each store and mode is applied to its own copy:
- the default: a claim keyed on the message's own task id in Django's cache (the test project's
  cache is the database, which every worker shares). A change (the reset) comes before the send, so
  the rule picks mark-after by itself, and the fix is safe: plain `apply` writes it;
- claim-before, asked for (`--flag-mode claim-before`, unsafe here: the reset sits between the claim
  and the send);
- the field store (`--flag-store field`, then `makemigrations onboarding` for the new field): a welcome
  goes out once per host by nature, so a permanent flag is right.
A crash *between* the reset and the send shows the trade-off the docs describe: claim-before loses that
message (at most once), mark-after sends it on the redelivery (at least once). A second, new message
(another task id) still sends with the message claim; the per-object field silences it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from runtime_helpers import TIMEOUT, apply_rules, changed_files, copy_project, deliver, run_scenario

RULE = "sent-flag"
SIGNUP_PASSWORD = "chosen-at-signup"
CRASH_AT = {"clean": None, "crash_after_send": "after_send", "crash_after_reset": "after_reset"}
FIRST_OUTCOME = {"clean": "ok", "crash_after_send": "crash", "crash_after_reset": "crash"}


def scenario_welcome(deliveries: list[list[str]]) -> dict:
    """In the driver process: deliver the welcome task once per (delivery, message id) entry: the same
    id again is a redelivery of one message, another id a new message.

    Returns the delivery outcomes, how many emails the locmem backend holds, to whom, and for each
    email whether the password it carries is the user's password now.
    """
    import re

    from django.contrib.auth import get_user_model
    from django.core import mail

    from onboarding import tasks
    from onboarding.models import Host

    user = get_user_model().objects.create_user("hana", email="hana@example.com", password=SIGNUP_PASSWORD)
    host = Host.objects.create(user=user, display_name="Hana")
    outcomes = [deliver(tasks.send_host_welcome_email, host.pk, crash_at=CRASH_AT[d], task_id=i) for d, i in deliveries]
    user.refresh_from_db()
    outbox = list(getattr(mail, "outbox", []))
    passwords = [re.search(r"your password: (\S+)", message.body).group(1) for message in outbox]
    return {
        "outcomes": outcomes,
        "emails": len(outbox),
        "to": sorted({address for message in outbox for address in message.to}),
        "works": [user.check_password(p) for p in passwords],
        "signup_password_works": user.check_password(SIGNUP_PASSWORD),
    }


def scenario_checklist(deliveries: list[list[str]]) -> dict:
    """In the driver process: deliver the checklist task once per (armed fault, message id) entry; the
    fault "checklist" makes the mail server drop the first attempt, which the task retries."""
    from django.contrib.auth import get_user_model
    from django.core import mail

    from onboarding import tasks
    from onboarding.models import Host

    user = get_user_model().objects.create_user("ines", email="ines@example.com", password=SIGNUP_PASSWORD)
    host = Host.objects.create(user=user, display_name="Ines")
    outcomes = [deliver(tasks.send_host_checklist_email, host.pk, crash_at=fault or None, task_id=i) for fault, i in deliveries]
    return {"outcomes": outcomes, "emails": len(getattr(mail, "outbox", []))}


def redelivered(first: str) -> list[list[str]]:
    """`first`, then the same message again."""
    return [[first, "message-1"], ["clean", "message-1"]]


def _env(db) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "IDEMFIX_CRASH"}}
    env["IDEMFIX_DB_PATH"] = str(db)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _makemigrations(project, tmp_path) -> str:
    """The rule added a field: make its migration in the copy, as the rule's message tells users to."""
    proc = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "onboarding"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=_env(tmp_path / "makemigrations.sqlite3"),
    )
    assert proc.returncode == 0, f"makemigrations failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _patched(tmp_path_factory, name: str, args: tuple[str, ...] = ()):
    project = copy_project(tmp_path_factory.mktemp(name) / "project")
    proc = apply_rules(project, RULE, args=args)
    assert proc.returncode == 0, f"apply failed:\n{proc.stdout}\n{proc.stderr}"
    again = apply_rules(project, RULE, args=args)
    assert "Rewrote 0 sites" in again.stderr, f"a second apply changed something:\n{again.stderr}"
    return project, proc


@pytest.fixture(scope="module")
def unpatched(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("unpatched") / "project")


@pytest.fixture(scope="module")
def message_claim(tmp_path_factory):
    """Plain `apply`: the default store and the mode the rule picks, written because it is safe."""
    project, proc = _patched(tmp_path_factory, "message_claim")
    assert changed_files(project) == ["onboarding/tasks.py"], proc.stderr  # no field
    tasks = (project / "onboarding" / "tasks.py").read_text()
    assert "send_host_welcome_email.request.id and cache.get(" in tasks and "cache.set(" in tasks, tasks
    assert "rewrote (safe)" in proc.stderr
    return project


@pytest.fixture(scope="module")
def claim_before(tmp_path_factory):
    project, proc = _patched(tmp_path_factory, "claim_before", ("--flag-mode", "claim-before", "--unsafe-fixes"))
    assert "rewrote (unsafe)" in proc.stderr and "at most once" in proc.stderr
    assert "cache.add(" in (project / "onboarding" / "tasks.py").read_text()
    return project


@pytest.fixture(scope="module")
def field_store(tmp_path_factory):
    project, proc = _patched(tmp_path_factory, "field_store", ("--flag-store", "field"))
    assert {"onboarding/models.py", "onboarding/tasks.py"} <= set(changed_files(project)), proc.stderr
    assert "makemigrations onboarding" in proc.stderr
    migration = _makemigrations(project, tmp_path_factory.mktemp("field_store_db"))
    assert "welcome_email_sent" in migration
    return project


def run(project, deliveries, tmp_path):
    return run_scenario(project, scenario_welcome, deliveries, db=tmp_path / "db.sqlite3")


def test_one_delivery_sends_one_working_password(unpatched, tmp_path):
    report = run(unpatched, [["clean", "message-1"]], tmp_path)
    assert report == {
        "outcomes": ["ok"],
        "emails": 1,
        "to": ["hana@example.com"],
        "works": [True],
        "signup_password_works": False,
    }


@pytest.mark.parametrize("first", ["clean", "crash_after_send"])
def test_unpatched_redelivery_sends_two_emails_and_kills_the_first_password(unpatched, tmp_path, first):
    report = run(unpatched, redelivered(first), tmp_path)
    assert report["outcomes"] == [FIRST_OUTCOME[first], "ok"]
    assert report["emails"] == 2
    assert report["works"] == [False, True]  # the first email's password is dead


@pytest.mark.parametrize("mode", ["message_claim", "claim_before", "field_store"])
@pytest.mark.parametrize("first", ["clean", "crash_after_send"])
def test_patched_redelivery_sends_one_email_whose_password_works(request, tmp_path, mode, first):
    project = request.getfixturevalue(mode)
    report = run(project, redelivered(first), tmp_path)
    assert report["outcomes"] == [FIRST_OUTCOME[first], "ok"]
    assert report["emails"] == 1, report
    assert report["works"] == [True], report
    assert report["to"] == ["hana@example.com"]


@pytest.mark.parametrize("mode, emails", [("message_claim", 2), ("claim_before", 2), ("field_store", 1)])
def test_a_new_message_is_a_new_event_only_for_the_message_claim(request, tmp_path, mode, emails):
    """A second message (another task id, a real second welcome) still sends with the claim on the
    message; the per-object flag silences it, which is why that store is only for once-by-nature mail."""
    report = run(request.getfixturevalue(mode), [["clean", "message-1"], ["clean", "message-2"]], tmp_path)
    assert report["emails"] == emails, report


def test_claim_before_is_at_most_once_a_crash_before_the_send_loses_the_email(claim_before, tmp_path):
    """The documented price of claim-before: the claim is taken, the password reset, then the worker dies;
    the redelivery sees the claim and returns. No email, and the signup password is gone."""
    report = run(claim_before, redelivered("crash_after_reset"), tmp_path)
    assert report["outcomes"] == ["crash", "ok"]
    assert report["emails"] == 0
    assert report["signup_password_works"] is False


@pytest.mark.parametrize("mode", ["message_claim", "field_store"])
def test_mark_after_is_at_least_once_a_crash_before_the_send_still_sends(request, tmp_path, mode):
    """mark-after (picked by the rule, since the reset comes before the send): the mark is set only after
    the send, so the redelivery resets again and sends; the one email's password is the one that works."""
    report = run(request.getfixturevalue(mode), redelivered("crash_after_reset"), tmp_path)
    assert report["outcomes"] == ["crash", "ok"]
    assert report["emails"] == 1
    assert report["works"] == [True]


def checklist(project, deliveries, tmp_path):
    return run_scenario(project, scenario_checklist, deliveries, db=tmp_path / "db.sqlite3")


@pytest.mark.parametrize("mode", ["unpatched", "message_claim"])
def test_a_retried_send_still_sends_once(request, tmp_path, mode):
    """The checklist task hands itself to a helper that retries a dropped connection, and a retry keeps
    the task id: the rule sees the retry through the helper and marks after the send, so the retry sends."""
    report = checklist(request.getfixturevalue(mode), [["checklist", "message-1"]], tmp_path)
    assert report == {"outcomes": ["retried"], "emails": 1}


@pytest.mark.parametrize("first", ["", "after_checklist"])
def test_a_redelivered_checklist_is_sent_once(message_claim, tmp_path, first):
    report = checklist(message_claim, [[first, "message-1"], ["", "message-1"]], tmp_path)
    assert report["emails"] == 1, report


def test_a_claim_before_a_retried_send_would_silence_it(claim_before, tmp_path):
    """Why the rule does not pick claim-before here: forced, the retry finds its own claim and returns."""
    report = checklist(claim_before, [["checklist", "message-1"]], tmp_path)
    assert report == {"outcomes": ["retried"], "emails": 0}
