"""The command line as a user meets it: exit codes, dry runs, checks, errors and help."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import write_tree
from idem_fix.cli import __version__
from idem_fix.cli.main import app

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shop"

RULE = "create-to-get-or-create"
PROJECT = {
    "models.py": """
        from django.db import models

        class Payout(models.Model):
            period = models.CharField(max_length=7, unique=True)
            amount = models.IntegerField()
    """,
    "tasks.py": """
        from celery import shared_task
        from models import Payout

        @shared_task
        def pay(period, amount):
            Payout.objects.create(period=period, amount=amount)
    """,
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", PROJECT)
    monkeypatch.chdir(root)
    return root


def invoke(*args):
    return CliRunner().invoke(app, list(args))


def test_dry_run_prints_a_diff_and_writes_nothing(project):
    before = (project / "tasks.py").read_bytes()
    result = invoke("apply", "--rule", RULE, "--dry-run", ".")
    assert result.exit_code == 1, result.output  # like ruff --diff: there are changes
    assert '+    Payout.objects.get_or_create(period=period, defaults={"amount": amount})' in result.stdout
    assert "--- a/tasks.py" in result.stdout
    assert (project / "tasks.py").read_bytes() == before


def test_check_exits_1_when_something_would_change_and_0_after_apply(project):
    assert invoke("apply", "--rule", RULE, "--check", ".").exit_code == 1
    applied = invoke("apply", "--rule", RULE, ".")
    assert applied.exit_code == 0
    assert "Rewrote 1 site in 1 file" in applied.output
    assert "get_or_create(period=period" in (project / "tasks.py").read_text()
    assert invoke("apply", "--rule", RULE, "--check", ".").exit_code == 0


def test_unknown_rule_exits_2_and_lists_the_rules(project):
    result = invoke("apply", "--rule", "no-such-rule", ".")
    assert result.exit_code == 2
    assert "unknown rule: no-such-rule" in result.output
    assert RULE in result.output


def test_missing_path_exits_2(project):
    result = invoke("apply", "--rule", RULE, "nowhere")
    assert result.exit_code == 2
    assert "no such file or folder: nowhere" in result.output


def test_a_file_that_does_not_parse_is_reported_with_its_line_and_the_run_goes_on(project):
    (project / "broken.py").write_text("from celery import shared_task\n\ndef f(:\n    pass\n")
    result = invoke("apply", "--rule", RULE, ".")
    assert result.exit_code == 0
    assert "broken.py:3: SyntaxError" in result.output
    assert "get_or_create" in (project / "tasks.py").read_text()


def test_bad_configuration_exits_2_with_the_file_named(project):
    (project / "pyproject.toml").write_text('[tool.idem-fix]\nlookups = "Payout"\n')
    result = invoke("apply", "--rule", RULE, ".")
    assert result.exit_code == 2
    assert "pyproject.toml" in result.output and "lookups" in result.output


def test_rules_lists_every_rule_with_its_fix_safety():
    result = invoke("rules")
    assert result.exit_code == 0
    assert RULE in result.output and "unsafe" in result.output


def test_explain_prints_the_rule_doc_and_rejects_unknown_rules():
    result = invoke("explain", RULE)
    assert result.exit_code == 0
    assert "Use instead" in result.output and "get_or_create" in result.output
    assert invoke("explain", "nope").exit_code == 2


@pytest.mark.parametrize("command", [[], ["apply"], ["rules"], ["explain"]])
def test_every_command_has_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_help_paragraphs_wrap_at_the_terminal_width_not_at_the_docstring_lines():
    # A paragraph of a docstring spans several source lines; on an 80-column terminal those line
    # breaks used to cut lines in the middle ("moderate (notifications, duplicate" / "rows, ...").
    for command in app.registered_commands:
        paragraphs = command.help.split("\n\n")
        assert all("\n" not in paragraph for paragraph in paragraphs), command.name
    assert "(notifications, duplicate rows, fan-out)" in " ".join(invoke("audit", "--help").output.split())


def test_the_version_is_the_installed_one():
    assert __version__ == importlib.metadata.version("idem-fix")


def test_console_script_runs_as_a_module(project):
    result = subprocess.run(
        [sys.executable, "-m", "idem_fix.cli", "apply", "--rule", RULE, "--dry-run", "."],
        capture_output=True, text=True, cwd=project,
    )
    assert result.returncode == 1, result.stderr  # a diff to show
    assert "would rewrite" in result.stderr


def test_only_given_paths_are_written(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {**PROJECT, "other/tasks.py": PROJECT["tasks.py"]})
    monkeypatch.chdir(root)
    before = (root / "other" / "tasks.py").read_bytes()
    assert invoke("apply", "--rule", RULE, "tasks.py").exit_code == 0
    assert "get_or_create" in (root / "tasks.py").read_text()
    assert (root / "other" / "tasks.py").read_bytes() == before


NEW_RISKY_TASK = """
from celery import shared_task
from django.contrib.auth.models import User


@shared_task
def reset_password(user_id, password):
    user = User.objects.get(pk=user_id)
    user.set_password(password)
    user.save()
"""


def test_a_baseline_accepts_todays_findings_and_fail_on_names_only_a_new_one(tmp_path, monkeypatch):
    project = tmp_path / "shop"
    shutil.copytree(EXAMPLE, project)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    gate = ["audit", "--no-cache", "--fail-on", "high", "--baseline", "baseline.json", "shop"]

    assert runner.invoke(app, ["audit", "--no-cache", "--fail-on", "high", "shop"]).exit_code == 1  # today's findings
    written = runner.invoke(app, ["audit", "--no-cache", "--baseline", "baseline.json", "--update-baseline", "shop"])
    assert written.exit_code == 0, written.output
    entries = json.loads((tmp_path / "baseline.json").read_text())["findings"]
    assert entries and all(e["risk"] != "low" for e in entries)
    assert runner.invoke(app, gate).exit_code == 0  # everything accepted

    (project / "accounts" / "tasks.py").write_text("# a line added above every finding moves none of them\n" + (project / "accounts" / "tasks.py").read_text())
    (project / "accounts" / "resets.py").write_text(NEW_RISKY_TASK)
    result = runner.invoke(app, gate)

    assert result.exit_code == 1, result.output
    assert "--fail-on high: 1 new finding at or above high (not in baseline.json)" in result.stderr
    listed = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(listed) == 1 and listed[0].startswith("  shop/accounts/resets.py:9: [credential] critical: ")
    assert "(task accounts.resets.reset_password)" in listed[0]


def test_fail_on_without_a_baseline_names_what_failed(tmp_path, monkeypatch):
    monkeypatch.chdir(EXAMPLE.parent)
    result = CliRunner().invoke(app, ["audit", "--no-cache", "--fail-on", "critical", "shop"])
    assert result.exit_code == 1
    assert "--fail-on critical: 3 findings at or above critical" in result.stderr
    assert "shop/payments/services/payouts.py:" in result.stderr


def test_update_baseline_needs_the_file_and_a_broken_baseline_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(EXAMPLE.parent)
    runner = CliRunner()
    assert runner.invoke(app, ["audit", "--update-baseline", "shop"]).exit_code == 2
    (tmp_path / "broken.json").write_text("{not json")
    result = runner.invoke(app, ["audit", "--baseline", str(tmp_path / "broken.json"), "shop"])
    assert result.exit_code == 2 and "cannot read the baseline" in result.stderr


SUPPRESSED = """
# idem-fix: ignore-file[fanout] -- every follow-up task is idempotent
from celery import shared_task
from django.contrib.auth.models import User


@shared_task
def tidy(user_id):
    cleanup.delay(user_id)


@shared_task
def cleanup(user_id):
    pass


@shared_task
def reset_password(user_id, password):
    user = User.objects.get(pk=user_id)
    user.set_password(password)  # idem-fix: ignore[credential] -- the reset link is single-use
    user.save()


@shared_task
def rotate_key(user_id, key):
    user = User.objects.get(pk=user_id)
    user.set_password(key)
    user.save()
"""


def test_findings_of_no_rule_are_silenced_by_their_code_on_the_line_or_for_the_file(tmp_path, monkeypatch):
    write_tree(tmp_path, {"accounts/__init__.py": "", "accounts/tasks.py": SUPPRESSED})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["audit", "--no-cache", "--format", "json", "."])
    assert result.exit_code == 0, result.output
    codes = {(f["code"], f["line"]) for t in json.loads(result.stdout)["tasks"] for f in t["findings"]}
    assert ("credential", 26) in codes  # rotate_key: not silenced
    assert not any(code == "credential" and line == 19 for code, line in codes)
    assert not any(code == "fanout" for code, _ in codes)


@pytest.mark.parametrize("name, starts", [("report.sarif", '{\n  "$schema"'), ("report.json", '{"version"'), ("report.md", "# ")])
def test_the_output_suffix_chooses_the_format(tmp_path, monkeypatch, name, starts):
    monkeypatch.chdir(EXAMPLE.parent)
    result = CliRunner().invoke(app, ["audit", "-o", str(tmp_path / name), "shop"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / name).read_text().startswith(starts)


def test_rule_all_and_comma_lists(project):
    listed = invoke("apply", "--rule", "sent-flag,create-to-get-or-create", "--rule", "sent-flag", "--check", ".")
    assert listed.exit_code == 1 and "[create-to-get-or-create]" in listed.output
    assert invoke("apply", "--rule", "all", "--check", ".").exit_code == 1
    unknown = invoke("apply", "--rule", "sent-flag,nope", "--check", ".")
    assert unknown.exit_code == 2 and "unknown rule: nope" in unknown.output and "or all" in unknown.output


def test_config_select_exclude_and_unknown_keys(project):
    (project / "legacy").mkdir()
    (project / "legacy" / "tasks.py").write_text((project / "tasks.py").read_text())
    (project / "pyproject.toml").write_text('[tool.idem-fix]\nselect = ["create-to-get-or-create"]\nextend-exclude = ["legacy/"]\n')
    result = invoke("apply", "--dry-run", ".")  # the rules from select
    assert result.exit_code == 1 and "[create-to-get-or-create]" in result.output
    assert "legacy/tasks.py" not in result.output  # excluded: never read
    (project / "pyproject.toml").write_text('[tool.idem-fix]\ntask-decorator = ["pkg.job"]\n')
    typo = invoke("audit", ".")
    assert typo.exit_code == 2
    assert "unknown key 'task-decorator' in [tool.idem-fix]; did you mean 'task-decorators'?" in typo.output
    assert "pyproject.toml" in typo.output
    (project / "pyproject.toml").write_text("[tool.idem-fix.atomic-multi-create]\nloop = \"whole\"\n")
    assert "unknown key 'loop' in [tool.idem-fix.atomic-multi-create]; it takes: loops" in invoke("audit", ".").output


def test_no_rule_and_no_select_is_a_usage_error(project):
    result = invoke("apply", ".")
    assert result.exit_code == 2 and "no rule named" in result.output


def test_a_run_says_what_it_is_doing_for_the_status_line(project):
    from idem_fix.codemods.engine.config import Config
    from idem_fix.codemods.engine.rules import Options, all_rules
    from idem_fix.codemods.engine.runner import run_rules, steps_for

    said, read = [], []
    rules = [all_rules()[RULE], all_rules()["sent-flag"]]
    run_rules([project], steps_for(rules, False), Options(), Config(), use_cache=False,
              on_progress=lambda done, total: read.append((done, total)), on_stage=said.append)
    assert read and read[-1][0] == read[-1][1]  # the file-reading bar reaches its end
    assert said[:2] == [f"{RULE}: looking for sites in 2 files", f"{RULE}: rewriting 1 file"]
    assert "reading the project again with 1 file rewritten" in said and "sent-flag: looking for sites in 2 files" in said


def test_the_readme_configuration_reference_is_valid_configuration(tmp_path):
    import re

    from idem_fix.codemods.engine.config import Config

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = re.search(r"```toml\n(\[tool\.idem-fix\].*?)```", readme, re.S).group(1)
    (tmp_path / "pyproject.toml").write_text(block)
    config = Config.load(tmp_path / "pyproject.toml")  # raises on an unknown key or a wrong type
    assert config.select and config.extend_exclude and config.lookups


def test_dry_run_puts_each_hunk_under_its_finding_and_stays_a_patch_git_applies(tmp_path, monkeypatch):
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop)
    monkeypatch.chdir(shop)
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "shop"]):
        subprocess.run(["git", *args], cwd=shop, check=True, capture_output=True)
    result = CliRunner().invoke(app, ["apply", "--rule", "all", "--unsafe-fixes", "--dry-run", "."])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    note = next(i for i, line in enumerate(lines) if line.startswith("# payments/services/payouts.py:24: [create-to-get-or-create] (safe)"))
    assert lines[note + 1] == "--- a/payments/services/payouts.py" and lines[note + 3].startswith("@@ -")
    (tmp_path / "dry.diff").write_text(result.stdout)
    applied = subprocess.run(["git", "apply", str(tmp_path / "dry.diff")], cwd=shop, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr
    assert "get_or_create(" in (shop / "payments" / "services" / "payouts.py").read_text()
    assert (shop / "shop" / "test_celery_at_least_once.py").is_file()  # the new file too


def test_task_and_min_risk_filters(tmp_path, monkeypatch):
    monkeypatch.chdir(EXAMPLE.parent)
    critical = CliRunner().invoke(app, ["apply", "--rule", "all", "--check", "--min-risk", "critical", "shop"])
    everything = CliRunner().invoke(app, ["apply", "--rule", "all", "--check", "shop"])
    assert "shop/notifications/tasks.py" in everything.stderr  # moderate: the Slack alert
    assert "shop/notifications/tasks.py" not in critical.stderr and "shop/payments/services/payouts.py:24" in critical.stderr
    one = CliRunner().invoke(app, ["apply", "--rule", "all", "--check", "--task", "issue_access_code", "shop"])
    assert [line.split(":")[0] for line in one.stderr.splitlines() if line.startswith("shop/")] == ["shop/bookings/tasks.py"]


def test_interactive_apply_writes_only_the_fixes_accepted(tmp_path, monkeypatch):
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop)
    monkeypatch.chdir(shop)
    before = {p: p.read_text() for p in shop.rglob("*.py")}
    result = CliRunner().invoke(app, ["apply", "--rule", RULE, "--interactive", "."], input="y\nn\ny\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Apply this fix?") == 3
    assert "# bookings/tasks.py:18: [create-to-get-or-create] (safe)" in result.output
    assert "get_or_create(" in (shop / "bookings" / "tasks.py").read_text()
    assert (shop / "payments" / "services" / "payouts.py").read_text() == before[shop / "payments" / "services" / "payouts.py"]
    assert "Invoice.objects.get_or_create(" in (shop / "payments" / "tasks.py").read_text()


def test_interactive_all_safe_and_quit(tmp_path, monkeypatch):
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop)
    monkeypatch.chdir(shop)
    quit_first = CliRunner().invoke(app, ["apply", "--rule", RULE, "--interactive", "."], input="q\n")
    assert quit_first.exit_code == 0 and "Rewrote 0 sites" in quit_first.output
    every = CliRunner().invoke(app, ["apply", "--rule", RULE, "--interactive", "."], input="n\na\n")
    assert every.output.count("Apply this fix?") == 2 and "Rewrote 2 sites" in every.output
    assert CliRunner().invoke(app, ["apply", "--rule", RULE, "-i", "--dry-run", "."]).exit_code == 2


STYLED = """
    from celery import shared_task
    from django.core.mail import send_mail

    from .models import Guest


    @shared_task
    def send_onboarding_email(guest_id):
        guest = Guest.objects.get(pk=guest_id)
        send_mail("Welcome aboard", "Here is how your stay works.", "hello@example.com", [guest.email])
"""
RUFF_PROJECT = {
    "app/__init__.py": "",
    "app/models.py": "from django.db import models\n\n\nclass Guest(models.Model):\n    email = models.EmailField()\n",
    "app/settings.py": 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://cache:6379"}}\n',
    "app/tasks.py": STYLED,
    "pyproject.toml": '[tool.ruff]\nline-length = 100\n\n[tool.ruff.lint]\nextend-select = ["I"]\n',
}


@pytest.mark.skipif(not shutil.which("ruff") and not (Path(sys.executable).parent / "ruff").is_file(), reason="ruff is a test dependency")
def test_apply_writes_in_the_projects_own_style_ruff_format_and_import_order(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", RUFF_PROJECT)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["apply", "--rule", "sent-flag", "."])
    assert result.exit_code == 0, result.output
    text = (root / "app" / "tasks.py").read_text()
    assert text.startswith("from celery import shared_task\nfrom django.core.cache import cache\nfrom django.core.mail import send_mail\n")
    assert max(len(line) for line in text.splitlines()) <= 100  # the claim's long line wrapped, as ruff format does
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    checked = subprocess.run([ruff, "check", "--select", "I,E501", "app/tasks.py"], cwd=root, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout
    formatted = subprocess.run([ruff, "format", "--check", "app/tasks.py"], cwd=root, capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout


@pytest.mark.skipif(not shutil.which("isort") and not (Path(sys.executable).parent / "isort").is_file(), reason="isort is a test dependency")
def test_isort_places_the_added_import_and_unsorted_files_keep_their_imports(tmp_path, monkeypatch):
    project = {**RUFF_PROJECT, "pyproject.toml": '[tool.isort]\nprofile = "black"\n'}
    unsorted = STYLED.replace("    from celery import shared_task\n    from django.core.mail import send_mail\n",
                              "    from django.core.mail import send_mail\n    from celery import shared_task\n")
    root = write_tree(tmp_path / "p", {**project, "app/other_tasks.py": unsorted.replace("send_onboarding_email", "send_farewell_email")})
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["apply", "--rule", "sent-flag", "."])
    assert result.exit_code == 0, result.output
    assert (root / "app" / "tasks.py").read_text().startswith(
        "from celery import shared_task\nfrom django.core.cache import cache\nfrom django.core.mail import send_mail\n"
    )
    kept = (root / "app" / "other_tasks.py").read_text()  # its imports were not sorted: left as the project has them
    assert kept.startswith("from django.core.cache import cache\nfrom django.core.mail import send_mail\nfrom celery import shared_task\n")


def test_suppressions_that_silence_nothing_are_reported(tmp_path, monkeypatch):
    stale = SUPPRESSED.replace("    pass\n", "    pass  # idem-fix: ignore[send]\n", 1)
    write_tree(tmp_path, {"accounts/__init__.py": "", "accounts/tasks.py": stale})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["audit", "--no-cache", "--format", "json", "."])
    assert result.exit_code == 0, result.output
    unused = json.loads(result.stdout)["unused_suppressions"]
    assert unused == [{"path": "accounts/tasks.py", "line": 13, "code": "send"}]  # the credential and fanout ones are used
    assert "accounts/tasks.py:13: `# idem-fix: ignore[send]` silences nothing here" in result.stderr
