"""`[tool.idem-fix.effects]`: a project says what a call does where its name and library do not, and the
audit (and every rule) reads the call that way; summaries made under another table are not reused."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from conftest import write_tree
from idem_fix.cli.main import app
from idem_fix.codemods.engine import config, effects

TASKS = """
    import requests
    from celery import shared_task
    from billing.gateway import capture
    from notifications.push import deliver

    @shared_task
    def close_order(order_id, token):
        capture(token, amount=100)
        deliver(order_id, "Your order is on its way")
        requests.post("https://metrics.internal/record", json={"order": order_id})
"""


def audit(root, monkeypatch, table: str, *extra: str) -> dict[int, dict]:
    (root / "pyproject.toml").write_text(f"[tool.idem-fix.effects]\n{table}")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["audit", "--format", "json", *extra, "."])
    assert result.exit_code == 0, result.output
    [task] = json.loads(result.stdout)["tasks"]
    return {f["line"]: f for f in task["findings"]}


def project(tmp_path):
    return write_tree(tmp_path / "p", {"shop/__init__.py": "", "shop/tasks.py": TASKS})


def test_declared_calls_are_read_as_the_project_says(tmp_path, monkeypatch):
    found = audit(project(tmp_path), monkeypatch, '"billing.gateway.*" = "payment"\n"notifications.push.deliver" = "send"\n'
                  '"requests.post" = "none"\n', "--no-cache")
    assert found[8]["risk"] == "critical" and "moves money through a payment provider" in found[8]["message"]
    assert found[9]["message"].startswith("deliver() sends a message")
    assert 10 not in found  # declared harmless: nothing to repeat


def test_without_a_table_the_same_calls_read_by_their_names(tmp_path, monkeypatch):
    found = audit(project(tmp_path), monkeypatch, "", "--no-cache")
    assert 8 not in found and 9 not in found  # project calls the analysis cannot see into, named like nothing
    assert found[10]["risk"] == "high"


def test_a_changed_table_is_not_answered_from_the_summaries_of_the_last(tmp_path, monkeypatch):
    root = project(tmp_path)
    assert 9 not in audit(root, monkeypatch, "")
    assert audit(root, monkeypatch, '"notifications.push.deliver" = "send"\n')[9]["risk"] == "moderate"
    assert 9 not in audit(root, monkeypatch, "")


def test_a_value_that_is_no_effect_is_an_error_naming_the_choices(tmp_path, monkeypatch):
    root = project(tmp_path)
    (root / "pyproject.toml").write_text('[tool.idem-fix.effects]\n"billing.*" = "money"\n')
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["audit", "."])
    assert result.exit_code != 0 and "[tool.idem-fix.effects]" in result.output and "payment" in result.output


def test_the_configuration_and_the_classifier_offer_the_same_choices():
    assert set(config.DECLARABLE) == set(effects.DECLARABLE)
