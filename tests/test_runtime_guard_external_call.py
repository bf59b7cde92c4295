"""Proof by running: `guard-external-call` makes tasks call an external system once per job.

tests/djproject/partners holds tasks that call a partner and save the reference it answers with:
`book_reservation` (the audit's case: a status save, then the booking), `book_lock` (the call in a
service class method, saved on `self.reservation`), `book_lock_for` (the message carries a stale copy of
the instance, so the guard must refresh it) and `create_mail_redirection` (a nested helper makes the call).
Their client is a recording fake (partners/partner_client.py) that appends each call to a file, outside
the database, and answers each call with a new reference: BK-101-1 for the first booking of room 101,
BK-101-2 for a second one.

Each task is delivered twice (a redelivery), or crashed right after the reference is saved and
delivered again. Patched, the partner gets one call and the row keeps the first call's reference;
unpatched, it gets two and the row ends with the second reference, otherwise this test could not fail
and would prove nothing. A crash *between* the call and the save is the window no guard can close
(only an idempotency key can): the rule does not claim it, and neither does this test.

`cancel_reservation` stores nothing: the rule must leave it as it is and say what would make it safe.
"""
from __future__ import annotations

import pytest

from runtime_helpers import PROJECT_SOURCE, apply_rules, changed_files, copy_project, deliver, run_scenario

RULE = "guard-external-call"
SHAPES = ["audit_case", "service_method", "stale_instance", "nested_helper"]
FIRST_OUTCOME = {"clean": "ok", "crash": "crash"}
FIRST_REF = {
    "audit_case": "BK-101-1",
    "service_method": "LOCK-L-202-1",
    "stale_instance": "LOCK-L-303-1",
    "nested_helper": "1",
}
SECOND_REF = {
    "audit_case": "BK-101-2",
    "service_method": "LOCK-L-202-2",
    "stale_instance": "LOCK-L-303-2",
    "nested_helper": "2",
}


def scenario_deliver_each(deliveries: list[str]) -> dict[str, dict]:
    """In the driver process: deliver every partner task once per entry of `deliveries`.

    "crash" arms the crash point right after the task saves the reference. Returns, per shape, the
    delivery outcomes, how many calls the fake partner recorded for it, the reference the row keeps and
    (for the audit case) its final status.
    """
    import copy

    from partners import partner_client, tasks
    from partners.models import MailRedirection, Reservation

    audit = Reservation.objects.create(room="101")
    service = Reservation.objects.create(room="202", lock_id="L-202")
    stale = Reservation.objects.create(room="303", lock_id="L-303")
    queued_copy = Reservation.objects.get(pk=stale.pk)  # what the message carries: the row when queued
    redirection = MailRedirection.objects.create(source="info@example.com", target="owner@example.net")

    # shape -> (task, args for one delivery, method and subject the fake records, the row, its field)
    plan = {
        "audit_case": (tasks.book_reservation, lambda: (audit.pk,), ("create_booking", "101"), audit, "booking_ref"),
        "service_method": (tasks.book_lock, lambda: (service.pk,), ("lock.book", "L-202"), service, "lock_booking_id"),
        "stale_instance": (
            tasks.book_lock_for, lambda: (copy.deepcopy(queued_copy),), ("lock.book", "L-303"), stale, "lock_booking_id",
        ),
        "nested_helper": (
            tasks.create_mail_redirection, lambda: (redirection.pk,),
            ("ovh.post", "/email/domain/example.com/redirection info@example.com"), redirection, "ovh_id",
        ),
    }
    report = {}
    for shape, (task, args, (method, subject), row, field) in plan.items():
        outcomes = [
            deliver(task, *args(), crash_at="after_save" if d == "crash" else None) for d in deliveries
        ]
        row.refresh_from_db()
        calls = [c for c in partner_client.recorded() if c["method"] == method and c["subject"] == subject]
        report[shape] = {"outcomes": outcomes, "calls": len(calls), "ref": getattr(row, field)}
        if shape == "audit_case":
            report[shape]["status"] = row.status
    return report


def scenario_cancel_twice() -> dict:
    from partners import partner_client, tasks
    from partners.models import Reservation

    reservation = Reservation.objects.create(room="404", booking_ref="BK-404-1")
    outcomes = [deliver(tasks.cancel_reservation, reservation.pk) for _ in range(2)]
    calls = [c for c in partner_client.recorded() if c["method"] == "cancel_booking"]
    return {"outcomes": outcomes, "calls": len(calls)}


@pytest.fixture(scope="module")
def unpatched(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("unpatched") / "project")


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("patched") / "project")
    proc = apply_rules(project, RULE, args=("--unsafe-fixes",))
    assert proc.returncode == 0, f"apply failed:\n{proc.stdout}\n{proc.stderr}"
    return project, proc


@pytest.fixture(scope="module")
def patched(applied):
    project, proc = applied
    assert changed_files(project) == ["partners/services.py", "partners/tasks.py"], proc.stderr
    return project


def run(project, scenario, tmp_path, *args):
    env = {"IDEMFIX_PARTNER_CALLS": str(tmp_path / "partner_calls.jsonl")}
    return run_scenario(project, scenario, *args, db=tmp_path / "db.sqlite3", env=env)


def test_every_shape_is_exercised(unpatched, tmp_path):
    report = run(unpatched, scenario_deliver_each, tmp_path, ["clean"])
    assert sorted(report) == sorted(SHAPES)
    for shape, result in report.items():
        assert result["outcomes"] == ["ok"] and result["calls"] == 1, (shape, result)
        assert result["ref"] == FIRST_REF[shape], (shape, result)


@pytest.mark.parametrize("first", ["clean", "crash"])
def test_unpatched_second_delivery_calls_again(unpatched, tmp_path, first):
    """Without the rule, each redelivery books again, and the row ends with the second reference."""
    report = run(unpatched, scenario_deliver_each, tmp_path, [first, "clean"])
    assert sorted(report) == sorted(SHAPES)
    wrong = {
        shape: r for shape, r in report.items()
        if r["outcomes"] != [FIRST_OUTCOME[first], "ok"] or r["calls"] != 2 or r["ref"] != SECOND_REF[shape]
    }
    assert not wrong, wrong


@pytest.mark.parametrize("first", ["clean", "crash"])
def test_patched_second_delivery_calls_once(patched, tmp_path, first):
    """With the rule, the second delivery finds the saved reference and stops: one call, first reference."""
    report = run(patched, scenario_deliver_each, tmp_path, [first, "clean"])
    assert sorted(report) == sorted(SHAPES)
    wrong = {
        shape: r for shape, r in report.items()
        if r["outcomes"] != [FIRST_OUTCOME[first], "ok"] or r["calls"] != 1 or r["ref"] != FIRST_REF[shape]
    }
    assert not wrong, wrong
    # The guard comes before the status save too: a redelivery does not set a booked row back to BOOKING.
    assert report["audit_case"]["status"] == "BOOKED"


def test_patched_three_deliveries_still_one_call(patched, tmp_path):
    report = run(patched, scenario_deliver_each, tmp_path, ["crash", "clean", "clean"])
    assert {shape: (r["calls"], r["ref"]) for shape, r in report.items()} == {
        shape: (1, FIRST_REF[shape]) for shape in SHAPES
    }


def test_unstored_result_is_reported_not_rewritten(applied, tmp_path):
    """cancel_reservation keeps nothing to guard on: left as it is, with what would make it safe."""
    project, proc = applied

    def cancel_source(root):
        text = (root / "partners" / "tasks.py").read_text()
        return text[text.index("def cancel_reservation("):]

    assert cancel_source(project) == cancel_source(PROJECT_SOURCE)
    assert "partner_client.cancel_booking() not guarded: its result is not stored" in proc.stderr
    assert "idempotency key" in proc.stderr
    report = run(project, scenario_cancel_twice, tmp_path)
    assert report == {"outcomes": ["ok", "ok"], "calls": 2}


def test_second_apply_changes_nothing(patched):
    proc = apply_rules(patched, RULE, args=("--unsafe-fixes",))
    assert proc.returncode == 0, proc.stderr
    assert "Rewrote 0 sites" in proc.stderr, proc.stderr
    assert proc.stderr.count("left alone: already guarded") == 4, proc.stderr
