"""Everything outside the edit stays byte for byte: encodings, BOM, line endings, tabs, no final newline."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from idem_fix.cli.main import app

MODELS = b"""from django.db import models


class Payout(models.Model):
    period = models.CharField(max_length=7, unique=True)
    amount = models.IntegerField()
"""

TASK = (
    "from celery import shared_task\n"
    "from models import Payout\n"
    "\n"
    "@shared_task\n"
    "def pay(period, amount):\n"
    '    note = "d\u00e9j\u00e0 vu"; Payout.objects.create(period=period, amount=amount)  # keep me\n'
    "    return note\n"
)
EXPECTED = TASK.replace(
    "Payout.objects.create(period=period, amount=amount)",
    'Payout.objects.get_or_create(period=period, defaults={"amount": amount})',
)


def _apply(tmp_path, monkeypatch, data: bytes) -> bytes:
    (tmp_path / "models.py").write_bytes(MODELS)
    (tmp_path / "tasks.py").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["apply", "--rule", "create-to-get-or-create", "."])
    assert result.exit_code == 0, result.output
    once = (tmp_path / "tasks.py").read_bytes()
    again = CliRunner().invoke(app, ["apply", "--rule", "create-to-get-or-create", "--check", "."])
    assert again.exit_code == 0, "a second apply would change the file"
    return once


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda text: text.encode("utf-8"), id="utf8"),
        pytest.param(lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), id="utf8_bom"),
        pytest.param(lambda text: text.replace("\n", "\r\n").encode("utf-8"), id="crlf"),
        pytest.param(lambda text: ("# -*- coding: latin-1 -*-\n" + text).encode("latin-1"), id="latin1_cookie"),
        pytest.param(lambda text: text.replace("    ", "\t").encode("utf-8"), id="tabs"),
        pytest.param(lambda text: text.rstrip("\n").encode("utf-8"), id="no_final_newline"),
        pytest.param(lambda text: text.replace("\n\n", "\n\x0c\n").encode("utf-8"), id="form_feed"),
        pytest.param(lambda text: text.replace("\n", "   \n").encode("utf-8"), id="trailing_whitespace"),
    ],
)
def test_only_the_edit_changes(tmp_path, monkeypatch, encode):
    assert _apply(tmp_path, monkeypatch, encode(TASK)) == encode(EXPECTED)


def test_mixed_line_endings_are_kept_line_by_line(tmp_path, monkeypatch):
    lines = TASK.splitlines(keepends=True)
    mixed = "".join(line.replace("\n", "\r\n") if i % 2 else line for i, line in enumerate(lines))
    expected = mixed.replace(
        "Payout.objects.create(period=period, amount=amount)",
        'Payout.objects.get_or_create(period=period, defaults={"amount": amount})',
    )
    assert _apply(tmp_path, monkeypatch, mixed.encode()) == expected.encode()


def test_file_permissions_are_kept(tmp_path, monkeypatch):
    path = tmp_path / "tasks.py"
    path.write_text(TASK)
    path.chmod(0o640)
    _apply(tmp_path, monkeypatch, TASK.encode())
    assert (path.stat().st_mode & 0o777) == 0o640
