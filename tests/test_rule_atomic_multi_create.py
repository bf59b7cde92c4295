"""`atomic-multi-create` on small sources: the edges the golden cases do not show one by one."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from idem_fix.cli.main import app

MODELS = """
from django.db import models


class Order(models.Model):
    status = models.CharField(max_length=16)


class Line(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
"""
HEADER = "from celery import shared_task\n\nfrom .models import Line, Order\n\n\n"


def apply(tmp_path: Path, monkeypatch, tasks: str, files: dict[str, str] | None = None) -> tuple[str, str]:
    """Run the rule through the CLI on models.py + tasks.py (+ files); return the output and tasks.py after
    it, without the fixed header and without the first `from django.db import transaction` line."""
    root = tmp_path / "project"
    root.mkdir()
    everything = {"models.py": MODELS, "tasks.py": HEADER + textwrap.dedent(tasks).lstrip("\n"), **(files or {})}
    for name, text in everything.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if name == "tasks.py" else textwrap.dedent(text).lstrip("\n"))
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["apply", "--no-cache", "--rule", "atomic-multi-create", "--unsafe-fixes", "."])
    assert result.exit_code == 0, result.output
    after = (root / "tasks.py").read_text()
    again = CliRunner().invoke(app, ["apply", "--no-cache", "--rule", "atomic-multi-create", "--unsafe-fixes", "."])
    assert (root / "tasks.py").read_text() == after, "a second apply changed the file"
    assert again.exit_code == 0
    compile(after, "tasks.py", "exec")
    return after.replace("from django.db import transaction\n", "", 1).removeprefix(HEADER), result.output


def body(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_statements_sharing_a_line_move_together(tmp_path, monkeypatch):
    after, _ = apply(tmp_path, monkeypatch, """
        @shared_task
        def run():
            if Order.objects.filter(status="x").exists():
                return None
            note = "x"; order = Order.objects.create(status=note)
            Line.objects.create(order=order); done = True
            return done
    """)
    assert after == body("""
        @shared_task
        def run():
            if Order.objects.filter(status="x").exists():
                return None
            with transaction.atomic():
                note = "x"; order = Order.objects.create(status=note)
                Line.objects.create(order=order); done = True
            return done
    """)


def test_one_line_block_is_reported_not_rewritten(tmp_path, monkeypatch):
    source = """
        @shared_task
        def run(flag):
            if flag: order = Order.objects.create(status="A"); Line.objects.create(order=order)
    """
    after, output = apply(tmp_path, monkeypatch, source)
    assert after == body(source)
    assert "one-line block" in output


def test_try_body_and_finally_writes_wrap_the_whole_try(tmp_path, monkeypatch):
    after, _ = apply(tmp_path, monkeypatch, """
        @shared_task
        def run(order_id):
            order = Order.objects.get(pk=order_id)
            try:
                Line.objects.create(order=order)
            finally:
                order.save()
    """)
    assert after == body("""
        @shared_task
        def run(order_id):
            order = Order.objects.get(pk=order_id)
            with transaction.atomic():
                try:
                    Line.objects.create(order=order)
                finally:
                    order.save()
    """)


def test_writes_in_separate_except_handlers_are_not_paired(tmp_path, monkeypatch):
    source = """
        @shared_task
        def run(order_id):
            try:
                order = Order.objects.get(pk=order_id)
            except Order.DoesNotExist:
                Order.objects.create(status="MISSING")
            except ValueError:
                Order.objects.create(status="BAD")
    """
    after, output = apply(tmp_path, monkeypatch, source)
    assert after == body(source)
    assert "on separate paths" in output


def test_upsert_counts_as_the_other_write(tmp_path, monkeypatch):
    after, _ = apply(tmp_path, monkeypatch, """
        @shared_task
        def run():
            order = Order.objects.create(status="NEW")
            Line.objects.get_or_create(order=order)
    """)
    assert "    with transaction.atomic():\n        order = Order.objects.create" in after


def test_non_orm_creates_and_non_model_saves_do_not_count(tmp_path, monkeypatch):
    source = """
        class Report:
            def save(self):
                pass


        @shared_task
        def run(serializer):
            serializer.create({"a": 1})
            report = Report()
            report.save()
            Order.objects.filter(status="OLD").delete()
    """
    after, output = apply(tmp_path, monkeypatch, source)
    assert after == body(source)
    assert "left alone:" not in output


def test_a_callee_atomic_only_through_its_grand_caller_is_left_alone(tmp_path, monkeypatch):
    source = """
        from django.db import transaction


        def write(status):
            order = Order.objects.create(status=status)
            Line.objects.create(order=order)


        def middle(status):
            write(status)


        @shared_task
        def run():
            with transaction.atomic():
                middle("A")
    """
    after, output = apply(tmp_path, monkeypatch, source)
    assert after.replace("from django.db import transaction\n", "") == body(source).replace("from django.db import transaction\n", "")
    assert "itself always run in a transaction" in output


def test_one_caller_outside_a_transaction_is_enough_to_wrap(tmp_path, monkeypatch):
    after, _ = apply(tmp_path, monkeypatch, """
        from django.db import transaction


        def write(status):
            if Order.objects.filter(status=status).exists():
                return
            order = Order.objects.create(status=status)
            Line.objects.create(order=order)


        @shared_task
        def safe():
            with transaction.atomic():
                write("A")


        @shared_task
        def unsafe():
            write("B")
    """)
    assert "        return\n    with transaction.atomic():\n        order = Order" in after


def test_a_local_import_of_transaction_is_used(tmp_path, monkeypatch):
    apply(tmp_path, monkeypatch, """
        @shared_task
        def run():
            from django.db import transaction as tx

            if Order.objects.filter(status="NEW").exists():
                return
            order = Order.objects.create(status="NEW")
            Line.objects.create(order=order)
    """)
    after = (tmp_path / "project" / "tasks.py").read_text()
    assert after.startswith(HEADER)  # no module-level import added
    assert "    with tx.atomic():\n        order = Order" in after


def test_configured_atomic_wrapper_counts_as_a_transaction(tmp_path, monkeypatch):
    source = """
        from .db import traced_atomic


        @shared_task
        def run():
            with traced_atomic("orders"):
                order = Order.objects.create(status="NEW")
                Line.objects.create(order=order)
    """
    files = {
        "db.py": "def traced_atomic(name):\n    from django.db import transaction\n    return transaction.atomic()\n",
        "pyproject.toml": '[tool.idem-fix]\natomic-wrappers = ["db.traced_atomic"]\n',
    }
    after, output = apply(tmp_path, monkeypatch, source, files)
    assert after == body(source)
    assert "already run inside" in output


def test_header_write_wraps_the_whole_statement(tmp_path, monkeypatch):
    after, _ = apply(tmp_path, monkeypatch, """
        @shared_task
        def run(statuses):
            for order in Order.objects.bulk_create([Order(status=s) for s in statuses]):
                order.lines.create()
    """)
    assert after == body("""
        @shared_task
        def run(statuses):
            with transaction.atomic():
                for order in Order.objects.bulk_create([Order(status=s) for s in statuses]):
                    order.lines.create()
    """)


def test_writes_of_a_lambda_are_never_wrapped(tmp_path, monkeypatch):
    source = """
        from django.db import transaction


        @shared_task
        def run():
            order = Order.objects.get(pk=1)
            transaction.on_commit(lambda: Line.objects.create(order=order))
            order.save()
    """
    after, _ = apply(tmp_path, monkeypatch, source)
    assert after == body(source).replace("from django.db import transaction\n", "", 1)


@pytest.mark.parametrize("name", ["transaction", "atomic"])
def test_module_level_names_taken_by_both_fall_back_to_an_alias(tmp_path, monkeypatch, name):
    after, _ = apply(tmp_path, monkeypatch, f"""
        {name} = "not django's"


        @shared_task
        def run(transaction):
            if Order.objects.filter(status=transaction).exists():
                return
            order = Order.objects.create(status=transaction)
            Line.objects.create(order=order)
    """)
    compile(after, "tasks.py", "exec")
    assert "with transaction.atomic()" not in after
    assert "atomic():\n        order = Order" in after
