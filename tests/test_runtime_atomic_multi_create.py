"""Proof by running: `atomic-multi-create` makes a crash between two writes leave nothing behind.

Every ledger task in tests/djproject writes two rows with `crash_point("between_creates")` between
them. The scenario crashes each task there once (a worker killed mid-task), then delivers it again
(the broker's redelivery).

- `settle_transfer` checks for its entries first: its fix is safe, and plain `apply` writes it.
  Unpatched, the crash leaves half a booking that the check takes for a whole one (one row, for good);
  patched, the crash rolls the first row back and the redelivery books both (two rows), once.
- The unguarded shapes get an unsafe fix (`--unsafe-fixes`): unpatched, the first row stays and the
  redelivery writes both again (three rows); patched, two rows. A clean second delivery still repeats
  them, which is why that fix is unsafe.
- `open_batch` builds a new batch and entries keyed on it on every run: no transaction makes that
  idempotent, so the rule reports it and writes nothing.

Each unpatched copy must show the wrong count, or the test could not fail and would prove nothing.

`scenario_crash_then_redeliver` runs in a separate process (see runtime_helpers); the tests only
read the row counts it reports.
"""
from __future__ import annotations

import pytest

from runtime_helpers import apply_rules, changed_files, copy_project, deliver, run_scenario

RULE = "atomic-multi-create"
SAFE = ["guarded_transfer"]  # if Entry.objects.filter(memo=reference).exists(): return; two creates
UNSAFE = [
    "two_creates_in_task",  # Entry.objects.create(...); crash; Entry.objects.create(...)
    "service_method",  # both creates in Refunds.refund(), one call below the task
]
REFUSED = ["new_instance_save_then_create"]  # batch = Batch(...); batch.save(); crash; Entry(batch=batch)
SHAPES = SAFE + UNSAFE + REFUSED


def scenario_crash_then_redeliver(deliveries: list[str]) -> dict[str, dict]:
    """In the driver process: deliver every ledger task once per entry of `deliveries`.

    "crash" arms the crash point between the two writes for that delivery, "clean" does not.
    Returns, per shape, the delivery outcomes and how many rows the task wrote.
    """
    from ledger import tasks
    from ledger.models import Batch, Entry, Wallet

    def wallets(*names):
        return [Wallet.objects.create(owner=name) for name in names]

    alice, bob = wallets("alice", "bob")
    carol = wallets("carol")[0]
    shop, dave = wallets("shop", "dave")

    # shape -> (task, args, rows the task writes)
    erin, frank = wallets("erin", "frank")
    plan = {
        "guarded_transfer": (
            tasks.settle_transfer, (erin.pk, frank.pk, "40.00", "T-1"),
            lambda: Entry.objects.filter(wallet__in=[erin, frank]).count(),
        ),
        "two_creates_in_task": (
            tasks.record_transfer, (alice.pk, bob.pk, "25.00"),
            lambda: Entry.objects.filter(wallet__in=[alice, bob]).count(),
        ),
        "new_instance_save_then_create": (
            tasks.open_batch, (carol.pk, "B-2024-05"),
            lambda: Batch.objects.filter(wallet=carol).count() + Entry.objects.filter(wallet=carol).count(),
        ),
        "service_method": (
            tasks.refund, (shop.pk, dave.pk, "12.50"),
            lambda: Entry.objects.filter(wallet__in=[shop, dave]).count(),
        ),
    }
    report = {}
    for shape, (task, args, rows) in plan.items():
        outcomes = [
            deliver(task, *args, crash_at="between_creates" if d == "crash" else None) for d in deliveries
        ]
        report[shape] = {"outcomes": outcomes, "rows": rows()}
    return report


@pytest.fixture(scope="module")
def unpatched(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("unpatched") / "project")


@pytest.fixture(scope="module")
def safe_only(tmp_path_factory):
    """Plain `apply`: only the guarded booking is wrapped."""
    project = copy_project(tmp_path_factory.mktemp("safe") / "project")
    proc = apply_rules(project, RULE)
    assert proc.returncode == 0, f"apply failed:\n{proc.stdout}\n{proc.stderr}"
    assert changed_files(project) == ["ledger/tasks.py"], proc.stderr
    assert (project / "ledger/tasks.py").read_text().count("with transaction.atomic():") == 1
    return project


@pytest.fixture(scope="module")
def patched(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("patched") / "project")
    proc = apply_rules(project, RULE, args=("--unsafe-fixes",))
    assert proc.returncode == 0, f"apply failed:\n{proc.stdout}\n{proc.stderr}"
    changed = changed_files(project)
    assert {"ledger/tasks.py", "ledger/services.py"} <= set(changed), f"{changed}\n{proc.stderr}"
    for name in ("ledger/tasks.py", "ledger/services.py"):
        assert "with transaction.atomic():" in (project / name).read_text(), name
    assert "it builds a fresh aggregate on every run" in proc.stderr
    return project


def run(project, deliveries, tmp_path):
    return run_scenario(project, scenario_crash_then_redeliver, deliveries, db=tmp_path / "db.sqlite3")


@pytest.mark.parametrize("which", ["unpatched", "patched"])
def test_one_clean_delivery_writes_two_rows(which, request, tmp_path):
    """Every shape is exercised, and the patch keeps a normal run's result: two rows."""
    report = run(request.getfixturevalue(which), ["clean"], tmp_path)
    assert sorted(report) == sorted(SHAPES)
    assert all(r == {"outcomes": ["ok"], "rows": 2} for r in report.values()), report


def test_unpatched_crash_then_redelivery_leaves_a_wrong_count(unpatched, tmp_path):
    """Without the rule, the crashed run's first row stays: the guarded booking stays half done (one row),
    the others are written again on top of it (three rows)."""
    report = run(unpatched, ["crash", "clean"], tmp_path)
    assert sorted(report) == sorted(SHAPES)
    assert report["guarded_transfer"] == {"outcomes": ["crash", "ok"], "rows": 1}, report
    expected = {"outcomes": ["crash", "ok"], "rows": 3}
    assert {shape: report[shape] for shape in UNSAFE + REFUSED if report[shape] != expected} == {}, report


def test_safe_fix_makes_the_guarded_booking_exactly_once(safe_only, tmp_path):
    """Plain `apply`: the guarded booking survives a crash and ignores a clean redelivery (two rows);
    the shapes whose fix is unsafe are as they were (three rows)."""
    report = run(safe_only, ["crash", "clean", "clean"], tmp_path)
    assert report["guarded_transfer"] == {"outcomes": ["crash", "ok", "ok"], "rows": 2}, report
    assert all(report[shape]["rows"] == 5 for shape in UNSAFE + REFUSED), report


def test_patched_crash_then_redelivery_leaves_two_rows(patched, tmp_path):
    """With the unsafe fixes too, the crash rolls the first row back: the redelivery leaves two rows."""
    report = run(patched, ["crash", "clean"], tmp_path)
    assert sorted(report) == sorted(SHAPES)
    expected = {"outcomes": ["crash", "ok"], "rows": 2}
    assert {shape: report[shape] for shape in SAFE + UNSAFE if report[shape] != expected} == {}, report
    assert report["new_instance_save_then_create"]["rows"] == 3, report  # refused: as it was


def test_patched_crash_alone_leaves_nothing(patched, tmp_path):
    """The crashed delivery by itself leaves no row at all: the transaction rolled it back."""
    report = run(patched, ["crash"], tmp_path)
    assert all(report[shape] == {"outcomes": ["crash"], "rows": 0} for shape in SAFE + UNSAFE), report
