"""Never damage a user's code: bad input is reported and skipped, writes are atomic, interrupted
runs leave every file old or new, only the named paths are written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import write_tree
from idem_fix.cli.main import app
from idem_fix.codemods.engine import edits, writes

RULE = "create-to-get-or-create"
MODELS = """
from django.db import models

class Payout(models.Model):
    period = models.CharField(max_length=7, unique=True)
    amount = models.IntegerField()
"""
TASK = """
from celery import shared_task
from models import Payout

@shared_task
def pay(period, amount):
    Payout.objects.create(period=period, amount=amount)
"""


def apply(root: Path, monkeypatch, *args):
    monkeypatch.chdir(root)
    return CliRunner().invoke(app, ["apply", "--rule", RULE, "--no-cache", *args, "."])


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("py2.py", b"from celery import shared_task\nprint 'task'\n", "SyntaxError"),
        ("latin.py", b"# task\nname = '\xe9t\xe9'\n", "not UTF-8"),
        ("binary.py", b"task\x00\x01\x02", "binary file"),
        ("huge_task.py", b"x = 1  # task\n" * 400_000, "larger than 5 MB"),
    ],
)
def test_bad_files_are_reported_once_and_skipped_while_the_rest_is_fixed(tmp_path, monkeypatch, name, data, reason):
    root = write_tree(tmp_path / "p", {"models.py": MODELS, "tasks.py": TASK, "empty.py": ""})
    (root / name).write_bytes(data)
    result = apply(root, monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.output.count(f"{name}:") == 1, result.output
    assert reason in result.output
    assert (root / name).read_bytes() == data
    assert "get_or_create" in (root / "tasks.py").read_text()


def test_symlinks_are_not_followed_out_of_the_project(tmp_path, monkeypatch):
    outside = write_tree(tmp_path / "outside", {"tasks.py": TASK, "models.py": MODELS})
    root = write_tree(tmp_path / "p", {"models.py": MODELS})
    (root / "linked_tasks.py").symlink_to(outside / "tasks.py")
    (root / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    before = (outside / "tasks.py").read_bytes()
    result = apply(root, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "linked_tasks.py: symbolic link to" in result.output
    assert "dangling.py: broken symbolic link" in result.output
    assert (outside / "tasks.py").read_bytes() == before
    assert (root / "linked_tasks.py").is_symlink()


def test_a_rewrite_that_would_not_compile_is_not_written(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {"models.py": MODELS, "tasks.py": TASK})
    before = (root / "tasks.py").read_bytes()
    monkeypatch.setattr(edits, "verify", lambda source, path: "SyntaxError: injected")
    result = apply(root, monkeypatch)
    assert result.exit_code == 1
    assert "would not compile (SyntaxError: injected); left unchanged" in result.output
    assert (root / "tasks.py").read_bytes() == before


def test_a_failed_write_leaves_the_original_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "tasks.py"
    path.write_text("old\n")

    def broken_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writes.os, "replace", broken_replace)
    with pytest.raises(OSError):
        writes.write_atomic(path, b"new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["tasks.py"]


def _big_tree(root: Path, apps: int) -> dict[Path, tuple[bytes, bytes]]:
    """Many task modules; returns each tasks.py with its old content and the content apply gives it."""
    files = {}
    expected = {}
    for n in range(apps):
        files[f"app{n}/__init__.py"] = ""
        files[f"app{n}/models.py"] = MODELS.replace("Payout", f"Payout{n}")
        task = TASK.replace("Payout", f"Payout{n}").replace("from models", f"from app{n}.models")
        files[f"app{n}/tasks.py"] = task
    write_tree(root, files)
    for n in range(apps):
        path = root / f"app{n}" / "tasks.py"
        old = path.read_bytes()
        new = old.replace(b"objects.create(period=period, amount=amount)",
                          b'objects.get_or_create(period=period, defaults={"amount": amount})')
        expected[path] = (old, new)
    return expected


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_killing_a_real_apply_leaves_every_file_old_or_new(tmp_path, sig):
    root = tmp_path / "big"
    expected = _big_tree(root, 300)
    process = subprocess.Popen(
        [sys.executable, "-m", "idem_fix.cli", "apply", "--rule", RULE, "--no-cache", "--jobs", "1", "."],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:  # wait until writing has begun
        if any(p.read_bytes() == new for p, (_, new) in list(expected.items())[:20]):
            break
        time.sleep(0.005)
    process.send_signal(sig)
    process.wait(timeout=60)
    old_count = new_count = 0
    for path, (old, new) in expected.items():
        data = path.read_bytes()
        assert data in (old, new), f"{path} is neither the old nor the new file"
        old_count += data == old
        new_count += data == new
    leftovers = [p for p in root.rglob("*.idem-fix")]
    assert not leftovers, leftovers
    assert process.returncode in (0, 130)
    if process.returncode == 130:  # stopped while writing: the message counts what was written
        assert f"interrupted: {new_count} of {len(expected)} files written" in process.stderr.read().decode()
    assert old_count + new_count == len(expected)


def test_writes_keep_the_mode_and_replace_atomically(tmp_path):
    path = tmp_path / "tasks.py"
    path.write_text("old\n")
    os.chmod(path, 0o751)
    writes.write_atomic(path, b"new\n")
    assert path.read_text() == "new\n"
    assert (path.stat().st_mode & 0o777) == 0o751


def test_an_unreadable_file_is_reported_and_skipped(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {"models.py": MODELS, "tasks.py": TASK, "secret_tasks.py": TASK})
    real_read = Path.read_bytes

    def read_bytes(path):  # tests run as root, which chmod 000 cannot stop
        if path.name == "secret_tasks.py":
            raise PermissionError(13, "Permission denied")
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = apply(root, monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.output.count("secret_tasks.py: cannot read: Permission denied") == 1, result.output
    assert "get_or_create" in (root / "tasks.py").read_text()


def test_a_rule_that_crashes_costs_one_file_not_the_run(tmp_path, monkeypatch):
    from idem_fix.codemods.engine.rules import all_rules

    root = write_tree(tmp_path / "p", {"models.py": MODELS, "tasks.py": TASK})
    before = (root / "tasks.py").read_bytes()
    rule = all_rules()[RULE]

    def explode(module, plans):
        raise RuntimeError("boom")

    monkeypatch.setattr(rule, "transform", explode)
    result = apply(root, monkeypatch)
    assert result.exit_code == 1
    assert "failed on this file (RuntimeError: boom); left unchanged" in result.output
    assert "Traceback" not in result.output
    assert (root / "tasks.py").read_bytes() == before
