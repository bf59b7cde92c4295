"""Proof by running: `create-to-get-or-create` makes the project's creating tasks idempotent.

Every task in tests/djproject that creates a row is delivered twice (a redelivery), or crashed
right after its create and delivered again. The patched copy must end with exactly one row per
task and no error; the unpatched copy must end with two rows or an IntegrityError, otherwise this
test could not fail and would prove nothing.

`scenario_deliver_each` runs in a separate process (see runtime_helpers); the tests only read the
row counts it reports.
"""
from __future__ import annotations

import pytest

from runtime_helpers import (
    apply_rules,
    changed_files,
    copy_project,
    deliver,
    duplicated,
    run_scenario,
)

RULE = "create-to-get-or-create"
REWRITTEN = [  # a unique constraint the call covers, with values from the task's arguments: safe
    "assigned_in_task",  # payout = Payout.objects.create(...)
    "returned_by_service",  # return Payout.objects.create(...) two calls down, other module
    "related_manager",  # line = order.lines.create(sku=sku, quantity=2)
    "dict_splat",  # Invoice.objects.create(number=number, total=total, **extra)
]
REFUSED = [  # no constraint and no lookup in the project says what a row is: a person decides
    "bare_expression",  # Notification.objects.create(user=user, kind="welcome")
    "service_attribute",  # self.booking = Booking.objects.create(...)
]
SHAPES = REWRITTEN + REFUSED
FIRST_OUTCOME = {"clean": "ok", "crash": "crash"}  # a "crash" delivery must really have crashed


def scenario_deliver_each(deliveries: list[str]) -> dict[str, dict]:
    """In the driver process: deliver every creating task once per entry of `deliveries`.

    "crash" arms the task's crash point for that delivery, "clean" does not. Returns, per shape,
    the delivery outcomes and how many rows the task's model holds for its arguments.
    """
    from django.contrib.auth import get_user_model

    from bookings import tasks as bookings_tasks
    from bookings.models import Booking, Guest, Notification, Order, OrderLine, Room
    from payments import tasks as payments_tasks
    from payments.models import Account, Invoice, Payout

    alice = Account.objects.create(name="alice")
    bob = Account.objects.create(name="bob")
    user = get_user_model().objects.create_user("carol")
    order = Order.objects.create(reference="ORD-1")
    guest = Guest.objects.create(name="dave")
    room = Room.objects.create(number="101")

    # shape -> (task, args, kwargs, rows the task creates)
    plan = {
        "assigned_in_task": (
            payments_tasks.create_payout, (alice.pk, "2024-05", "120.00"), {},
            Payout.objects.filter(account=alice),
        ),
        "returned_by_service": (
            payments_tasks.run_monthly_payout, (bob.pk, "2024-05"), {},
            Payout.objects.filter(account=bob),
        ),
        "bare_expression": (
            bookings_tasks.welcome_user, (user.pk,), {},
            Notification.objects.filter(user=user),
        ),
        "related_manager": (
            bookings_tasks.add_order_line, (order.pk, "SKU-1"), {},
            OrderLine.objects.filter(order=order),
        ),
        "dict_splat": (
            payments_tasks.issue_invoice, ("INV-0001", "99.00"), {"memo": "May"},
            Invoice.objects.filter(number="INV-0001"),
        ),
        "service_attribute": (
            bookings_tasks.confirm_booking, (guest.pk, room.pk), {},
            Booking.objects.filter(guest=guest, room=room),
        ),
    }
    report = {}
    for shape, (task, args, kwargs, rows) in plan.items():
        outcomes = [
            deliver(task, *args, crash_at="after_create" if d == "crash" else None, **kwargs)
            for d in deliveries
        ]
        report[shape] = {"outcomes": outcomes, "rows": rows.count()}
    return report


@pytest.fixture(scope="module")
def unpatched(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("unpatched") / "project")


@pytest.fixture(scope="module")
def patched(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("patched") / "project")
    proc = apply_rules(project, RULE)
    assert proc.returncode == 0, f"apply failed:\n{proc.stdout}\n{proc.stderr}"
    assert changed_files(project), f"apply changed no file:\n{proc.stdout}\n{proc.stderr}"
    return project


def run(project, deliveries, tmp_path):
    return run_scenario(project, scenario_deliver_each, deliveries, db=tmp_path / "db.sqlite3")


def test_every_shape_is_exercised(unpatched, tmp_path):
    report = run(unpatched, ["clean"], tmp_path)
    assert sorted(report) == sorted(SHAPES)
    assert all(r == {"outcomes": ["ok"], "rows": 1} for r in report.values()), report


@pytest.mark.parametrize("first", ["clean", "crash"])
def test_unpatched_second_delivery_duplicates(unpatched, tmp_path, first):
    """Without the rule, each task repeats its create: a second row, or an IntegrityError."""
    report = run(unpatched, [first, "clean"], tmp_path)
    wrong = {
        shape: r for shape, r in report.items()
        if r["outcomes"][0] != FIRST_OUTCOME[first] or not duplicated(r["outcomes"], r["rows"])
    }
    assert sorted(report) == sorted(SHAPES)
    assert not wrong, wrong


@pytest.mark.parametrize("first", ["clean", "crash"])
def test_patched_second_delivery_creates_once(patched, tmp_path, first):
    """With the rule, the second delivery finds the first one's row: one row, no error. The creates it
    refused to guess about are as they were: they still duplicate, and the apply said why."""
    report = run(patched, [first, "clean"], tmp_path)
    expected = {"outcomes": [FIRST_OUTCOME[first], "ok"], "rows": 1}
    wrong = {shape: r for shape, r in report.items() if shape in REWRITTEN and r != expected}
    assert sorted(report) == sorted(SHAPES)
    assert not wrong, wrong
    assert all(duplicated(report[shape]["outcomes"], report[shape]["rows"]) for shape in REFUSED), report


def test_refused_creates_are_reported_with_the_missing_identity(tmp_path):
    project = copy_project(tmp_path / "project")
    proc = apply_rules(project, RULE)
    assert proc.returncode == 0, proc.stderr
    assert "Notification.objects.create() not rewritten" in proc.stderr
    assert "no unique constraint on Notification covers this call" in proc.stderr
    assert "Booking.objects.create() not rewritten" in proc.stderr
