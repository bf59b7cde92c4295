"""Files written for a newer Python than the one running idem-fix: PEP 758 `except A, B:` (3.14),
PEP 695 type parameters and `type` aliases (3.12), PEP 701 f-strings (3.12), PEP 750 template strings
(3.14). Their tasks must be found
and fixed all the same, on the same lines."""

from __future__ import annotations

import ast
import sys

import pytest
from typer.testing import CliRunner

from conftest import write_tree
from idem_fix.cli.main import app
from idem_fix.codemods.engine import newer_syntax

NEWER = '''
from celery import shared_task

from .models import Payout

type Period = str


def first[T](items: list[T]) -> T:
    return items[0]


@shared_task
def pay(account_id, period, amount):
    labels = {"period": period}
    note = f"payout for {labels["period"]}"
    receipt = t"paid {amount} for {period}"
    try:
        Payout.objects.create(account_id=account_id, period=period, amount=amount, note=note)
    except ValueError, TypeError:
        pass
'''

MODELS = '''
from django.db import models


class Payout(models.Model):
    account_id = models.IntegerField()
    period = models.CharField(max_length=7)
    amount = models.IntegerField()
    note = models.TextField()

    class Meta:
        unique_together = ("account_id", "period")
'''


def test_the_running_python_cannot_read_the_sample():
    if sys.version_info >= (3, 14):
        pytest.skip("this Python reads all three syntaxes itself")
    with pytest.raises(SyntaxError):
        ast.parse(NEWER)


def test_lowered_source_keeps_every_line():
    tree, lowered = newer_syntax.parse(NEWER)
    assert lowered is None or len(lowered.splitlines()) == len(NEWER.splitlines())
    create = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "create")
    assert NEWER.splitlines()[create.lineno - 1].strip().startswith("Payout.objects.create(")
    handler = next(n for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler))
    assert [e.id for e in handler.type.elts] == ["ValueError", "TypeError"]


def test_tasks_in_a_newer_file_are_audited_and_fixed(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {"app/__init__.py": "", "app/models.py": MODELS, "app/tasks.py": NEWER})
    monkeypatch.chdir(root)
    runner = CliRunner()
    audit = runner.invoke(app, ["audit", "--no-cache", "."])
    assert audit.exit_code == 0, audit.output
    assert "app.tasks.pay" in audit.stdout and "could not" not in audit.output and "skipped" not in audit.output
    fixed = runner.invoke(app, ["apply", "--no-cache", "--rule", "create-to-get-or-create", "."])
    assert fixed.exit_code == 0, fixed.output
    text = (root / "app/tasks.py").read_text()
    assert "Payout.objects.get_or_create(" in text
    assert "except ValueError, TypeError:" in text and "def first[T]" in text and 'f"payout for {labels["period"]}"' in text
    assert 't"paid {amount} for {period}"' in text


def test_a_file_no_python_reads_is_reported_with_its_line(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {"app/__init__.py": "", "app/tasks.py": "from celery import shared_task\n\ndef broken(:\n    pass\n"})
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["audit", "--no-cache", "."])
    assert "app/tasks.py:3" in result.stderr and "SyntaxError" in result.stderr
