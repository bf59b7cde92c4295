"""The pre-commit hook definitions: each entry is a command idem-fix has, it runs on what pre-commit
gives it (the staged Python files, or nothing for the whole-project audit), and exits as its name says."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from idem_fix.cli.main import app

ROOT = Path(__file__).resolve().parent.parent
HOOKS = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def _run(hook: dict, files: list[str]):
    command = shlex.split(hook["entry"])
    assert command[0] == "idem-fix"  # the console script pyproject.toml installs
    args = command[1:] + list(hook.get("args", [])) + (files if hook.get("pass_filenames", True) else [])
    return CliRunner().invoke(app, args)


def test_every_hook_is_complete_and_reads_python_files():
    assert set(HOOKS) == {"idem-fix-check", "idem-fix-audit"}
    for hook in HOOKS.values():
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python" and hook["types"] == ["python"]


@pytest.fixture
def shop(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples" / "shop", tmp_path / "shop")
    monkeypatch.chdir(tmp_path / "shop")
    return tmp_path / "shop"


def test_check_hook_fails_while_a_safe_fix_is_due_and_passes_once_applied(shop):
    staged = [p.relative_to(shop).as_posix() for p in sorted(shop.rglob("*.py"))]
    due = _run(HOOKS["idem-fix-check"], staged)
    assert due.exit_code == 1, due.output
    assert CliRunner().invoke(app, ["apply", "--rule", "create-to-get-or-create,guard-external-call,atomic-multi-create,sent-flag", "."]).exit_code == 0
    assert _run(HOOKS["idem-fix-check"], staged).exit_code == 0


def test_audit_hook_audits_the_whole_project_and_names_what_fails(shop):
    result = _run(HOOKS["idem-fix-audit"], ["accounts/tasks.py"])  # pre-commit's file list is not passed on
    assert result.exit_code == 1
    assert "--fail-on high:" in result.stderr and "payments/services/payouts.py" in result.stderr
