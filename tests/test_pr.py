"""`idem-fix pr` on real git repositories: a branch with one commit per rule, the user's branch, index
and work tree left exactly as they were (on success and on failure), refusals (uncommitted changes,
an existing branch), black on the touched lines, a bare repository as the remote, and the pull
request opened against a small HTTP server on 127.0.0.1 that records what it was sent."""

from __future__ import annotations

import dataclasses
import http.server
import json
import subprocess
import tempfile
import threading
from pathlib import Path

import git
import libcst as cst
import pytest
from typer.testing import CliRunner

from conftest import write_tree
from idem_fix.cli import pr as pr_command
from idem_fix.cli import formatting, pull_request
from idem_fix.cli.main import app
from idem_fix.codemods.engine.levels import Applicability
from idem_fix.codemods.engine.rules import Finding, Rule, all_rules

RULE = "create-to-get-or-create"
BRANCH = f"idem-fix/{RULE}"
TOKEN = "ghp_TopSecret0123456789abcdef"

PROJECT = {
    "models.py": """
        from django.db import models


        class Guest(models.Model):
            email = models.EmailField()


        class Payout(models.Model):
            period = models.CharField(max_length=7, unique=True)
            amount = models.IntegerField()


        class Reservation(models.Model):
            guest = models.ForeignKey(Guest, on_delete=models.CASCADE)
            room = models.CharField(max_length=10)
            status = models.CharField(max_length=10)

            class Meta:
                unique_together = ("guest", "room")


        class Rate(models.Model):
            currency = models.CharField(max_length=3)
            value = models.IntegerField()
    """,
    "tasks.py": """
        from celery import shared_task
        from django.core.mail import send_mail

        from models import Guest, Payout, Rate, Reservation

        LIMITS = {'payout':1}


        @shared_task
        def pay(period, amount):
            Payout.objects.create(period=period, amount=amount)


        @shared_task
        def reserve(guest_id, room):
            guest = Guest.objects.get(pk=guest_id)
            Reservation.objects.create(guest=guest, room=room, status="CONFIRMED")


        @shared_task
        def store_rate(currency, value):
            Rate.objects.create(currency=currency, value=value)


        @shared_task
        def notify(email):
            send_mail("Paid", "Your payout is on its way.", None, [email])


        @shared_task
        def known_rate(currency, value):
            return Rate.objects.filter(currency=currency, value=value).exists()
    """,
    "README.md": "A project.\n",
}


# --- two rules made for these tests: one that changes send_mail, one whose output does not compile ---


@dataclasses.dataclass(frozen=True)
class _Plan:
    line: int
    column: int


class _SendOnce(Rule):
    def detect(self, project, options):
        found = []
        for task in project.tasks:
            source = project.source_of(task.key.module).path.read_text()
            if "send_mail(" in source and task.key.qualname == "notify":
                found.append(
                    Finding(self.name, task.key.module, task.path, task.line, "high",
                            "send_mail() -> send_mail_once() with a sent flag; run makemigrations for the new field",
                            Applicability.SAFE, plan=_Plan(task.line, 0), task=task.name)
                )
        return found

    def transform(self, module, plans):
        code = module.code.replace("send_mail(", "send_mail_once(")
        return (cst.parse_module(code), list(plans)) if code != module.code else (module, [])


class _Broken(_SendOnce):
    def transform(self, module, plans):
        return cst.parse_module(module.code + "nonlocal nowhere\n"), list(plans)


SEND_ONCE = _SendOnce("send-once", "send_mail() -> send_mail_once()", (Applicability.SAFE,))
BROKEN = _Broken("broken", "writes code that does not compile", (Applicability.SAFE,))


@pytest.fixture(autouse=True)
def _rules(monkeypatch):
    known = all_rules()
    monkeypatch.setattr(pr_command, "all_rules", lambda: {**known, SEND_ONCE.name: SEND_ONCE, BROKEN.name: BROKEN})


# --- repositories -------------------------------------------------------------------------------


def git_out(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "--no-optional-locks", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def commit_all(root: Path, message: str) -> str:
    git_out(root, "add", "-A")
    git_out(root, "commit", "-q", "-m", message)
    return git_out(root, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A committed project on branch main; git without the machine's global config; no tokens."""
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Tester\n\temail = tester@example.com\n[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "IDEM_FIX_GITHUB_API_URL", "IDEM_FIX_GITLAB_API_URL"):
        monkeypatch.delenv(name, raising=False)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    root = write_tree(tmp_path / "project", PROJECT)
    git_out(root, "init", "-q", "-b", "main")
    commit_all(root, "initial")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def bare_remote(repo, tmp_path):
    remote = tmp_path / "remote.git"
    git_out(tmp_path, "init", "-q", "--bare", str(remote))
    git_out(repo, "remote", "add", "origin", str(remote))
    git_out(repo, "push", "-q", "origin", "main")
    return remote


def state(root: Path) -> dict:
    """What the user has: HEAD and its branch, the index file byte for byte, every file of the work
    tree, the worktrees and the stash."""
    index = (root / ".git" / "index").read_bytes()
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }
    return {
        "head": git_out(root, "rev-parse", "HEAD"),
        "branch": git_out(root, "symbolic-ref", "-q", "HEAD"),
        "index": index,
        "files": files,
        "status": git_out(root, "status", "--porcelain"),
        "worktrees": git_out(root, "worktree", "list", "--porcelain"),
    }


def branches(root: Path) -> dict[str, str]:
    out = git_out(root, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads")
    return dict(line.split() for line in out.splitlines())


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, ["pr", *args], env=env)


def log(root: Path, revisions: str) -> list[str]:
    return git_out(root, "log", "--reverse", "--format=%H %s", revisions).splitlines()


# --- the branch and its commits -----------------------------------------------------------------


def test_one_commit_per_rule_on_a_new_branch_and_the_users_branch_index_and_files_untouched(repo):
    (repo / "notes.txt").write_text("an untracked file stays as it is\n")
    before = state(repo)
    main = before["head"]

    result = invoke("--rule", RULE, "--rule", "send-once", ".")

    assert result.exit_code == 0, result.output
    assert state(repo) == before
    name = f"idem-fix/{RULE}+send-once"
    assert set(branches(repo)) == {"main", name}
    commits = log(repo, f"main..{name}")
    assert len(commits) == 2
    first, second = (c.split(" ", 1) for c in commits)
    assert git_out(repo, "rev-parse", f"{first[0]}^") == main
    assert first[1] == f"idem-fix: {RULE} in tasks.pay, tasks.reserve"
    assert second[1] == "idem-fix: send-once in tasks.notify"
    message = git_out(repo, "log", "-1", "--format=%B", first[0])
    assert "- tasks.pay (critical)" in message and "tasks.py:11: Payout.objects.create() -> get_or_create(period)" in message
    assert "(keyed on Payout.period (unique=True)" in message and "UNSAFE" not in message
    assert git_out(repo, "show", "--name-only", "--format=", first[0]) == "tasks.py"
    on_branch = git_out(repo, "show", f"{name}:tasks.py")
    assert 'Payout.objects.get_or_create(period=period, defaults={"amount": amount})' in on_branch
    assert "send_mail_once(" in on_branch
    assert "LIMITS = {'payout':1}" in on_branch  # no black: [tool.black] is not configured
    assert "Created branch" in result.stderr and "You are still on main" in result.stderr
    assert result.stdout.startswith("# Make 3 Celery tasks safe to run twice (create-to-get-or-create, send-once)\n")
    assert not list(Path(tempfile.gettempdir()).iterdir())  # the temporary worktree is gone


def test_a_second_run_with_nothing_to_change_says_so_and_creates_nothing(repo):
    assert invoke("--rule", RULE).exit_code == 0
    git_out(repo, "merge", "-q", "--ff-only", BRANCH)
    git_out(repo, "branch", "-q", "-d", BRANCH)
    before = state(repo)

    result = invoke("--rule", RULE)

    assert result.exit_code == 0, result.output
    assert "Nothing to change" in result.stderr and "no branch created" in result.stderr
    assert "1 risky site needs a person" in result.stderr  # Rate has no stable identity
    assert result.stdout == ""
    assert set(branches(repo)) == {"main"}
    assert state(repo) == before


def test_an_existing_branch_is_refused_unless_forced_and_an_identical_one_is_kept(repo):
    assert invoke("--rule", RULE).exit_code == 0
    first = branches(repo)[BRANCH]

    again = invoke("--rule", RULE)  # same base, same result: the branch already holds it
    assert again.exit_code == 0, again.output
    assert "already holds these changes" in again.stderr
    assert branches(repo)[BRANCH] == first

    (repo / "tasks.py").write_text((repo / "tasks.py").read_text() + "\n\n@shared_task\ndef pay_again(period):\n    Payout.objects.create(period=period, amount=0)\n")
    main = commit_all(repo, "another task")
    refused = invoke("--rule", RULE)
    assert refused.exit_code == 1
    assert f"branch {BRANCH} already exists" in refused.stderr and "--force" in refused.stderr
    assert branches(repo)[BRANCH] == first

    forced = invoke("--rule", RULE, "--force")
    assert forced.exit_code == 0, forced.output
    assert "Replaced branch" in forced.stderr
    assert git_out(repo, "rev-parse", f"{BRANCH}^") == main
    assert "tasks.pay_again" in git_out(repo, "log", "-1", "--format=%B", BRANCH)


def test_the_branch_you_are_on_is_never_committed_to(repo):
    git_out(repo, "checkout", "-q", "-b", BRANCH)
    before = state(repo)
    result = invoke("--rule", RULE)
    assert result.exit_code == 2
    assert "the branch you are on" in result.stderr
    assert state(repo) == before


def test_uncommitted_changes_in_files_it_would_touch_are_refused_unless_allowed(repo):
    tasks = repo / "tasks.py"
    tasks.write_text(tasks.read_text() + "# work in progress\n")
    before = state(repo)

    refused = invoke("--rule", RULE)
    assert refused.exit_code == 1
    assert "uncommitted changes in files the pull request changes: tasks.py" in refused.stderr
    assert "--allow-dirty" in refused.stderr and "Nothing was created" in refused.stderr
    assert set(branches(repo)) == {"main"}
    assert state(repo) == before

    git_out(repo, "add", "tasks.py")  # staged counts too
    assert invoke("--rule", RULE).exit_code == 1

    allowed = invoke("--rule", RULE, "--allow-dirty")
    assert allowed.exit_code == 0, allowed.output
    assert "Left out (uncommitted, --allow-dirty): tasks.py" in allowed.stderr
    assert "# work in progress" not in git_out(repo, "show", f"{BRANCH}:tasks.py")  # made from the commit
    assert tasks.read_text().endswith("# work in progress\n")
    assert git_out(repo, "diff", "--cached", "--name-only") == "tasks.py"


def test_uncommitted_changes_elsewhere_do_not_block(repo):
    (repo / "README.md").write_text("edited\n")
    (repo / "scratch.py").write_text("x = 1\n")
    result = invoke("--rule", RULE)
    assert result.exit_code == 0, result.output
    assert (repo / "README.md").read_text() == "edited\n"


def test_a_failure_midway_leaves_branch_index_and_work_tree_exactly_as_before(repo):
    before = state(repo)
    result = invoke("--rule", RULE, "--rule", "broken")  # the first rule is committed, the second fails

    assert result.exit_code == 1
    assert "broken could not rewrite tasks.py" in result.stderr and "would not compile" in result.stderr
    assert state(repo) == before
    assert set(branches(repo)) == {"main"}
    assert not list(Path(tempfile.gettempdir()).iterdir())


def test_a_git_failure_is_reported_and_leaves_everything_as_before(repo, monkeypatch):
    real = pull_request._git

    def failing(repo_, *args, **kwargs):
        if args[0] == "commit":
            raise git.GitCommandError(["git", *args], 1, b"fatal: cannot lock ref 'HEAD'")
        return real(repo_, *args, **kwargs)

    monkeypatch.setattr(pull_request, "_git", failing)
    before = state(repo)
    result = invoke("--rule", RULE)
    assert result.exit_code == 1
    assert "git commit failed: fatal: cannot lock ref 'HEAD'" in result.stderr
    assert state(repo) == before
    assert set(branches(repo)) == {"main"}


def test_base_option_starts_from_another_commit_and_targets_its_branch(repo):
    first = git_out(repo, "rev-parse", "HEAD")
    git_out(repo, "branch", "release")
    (repo / "README.md").write_text("later\n")
    commit_all(repo, "later")
    result = invoke("--rule", RULE, "--base", "release", "--branch", "fix/payouts")
    assert result.exit_code == 0, result.output
    assert git_out(repo, "rev-parse", "fix/payouts^") == first
    assert "from release (" in result.stderr


# --- black on the touched lines -----------------------------------------------------------------


def test_black_formats_only_the_touched_lines_when_the_project_uses_black(repo):
    (repo / "pyproject.toml").write_text("[tool.black]\nline-length = 88\n")
    commit_all(repo, "use black")
    result = invoke("--rule", RULE)
    assert result.exit_code == 0, result.output
    on_branch = git_out(repo, "show", f"{BRANCH}:tasks.py")
    assert "LIMITS = {'payout':1}" in on_branch  # not touched: left as it was
    assert 'Reservation.objects.get_or_create(\n        guest=guest, room=room, defaults={"status": "CONFIRMED"}\n    )' in on_branch
    assert "formatted with black" in result.stdout


def test_no_black_without_tool_black_and_black_on_request(repo):
    assert invoke("--rule", RULE).exit_code == 0
    plain = git_out(repo, "show", f"{BRANCH}:tasks.py")
    assert 'Reservation.objects.get_or_create(guest=guest, room=room, defaults={"status": "CONFIRMED"})' in plain

    forced = invoke("--rule", RULE, "--black", "--branch", "with-black")
    assert forced.exit_code == 0, forced.output
    formatted = git_out(repo, "show", "with-black:tasks.py")
    assert "Reservation.objects.get_or_create(\n" in formatted
    assert "LIMITS = {'payout':1}" in formatted


def test_a_black_failure_fails_the_run_and_creates_nothing(repo):
    (repo / "pyproject.toml").write_text('[tool.black]\ntarget-version = ["py0"]\n')
    commit_all(repo, "broken black settings")
    before = state(repo)
    result = invoke("--rule", RULE)
    assert result.exit_code == 1
    assert "tasks.py: black format could not format the rewritten lines" in result.stderr
    assert state(repo) == before and set(branches(repo)) == {"main"}


def test_touched_lines_are_the_replaced_and_inserted_lines_of_the_new_file():
    old = b"a\nb\nc\nd\ne\n"
    new = b"a\nB\nc\nd\nd2\nd3\ne\n"
    assert formatting.touched_lines(old, new) == [(2, 2), (5, 6)]
    assert formatting.touched_lines(old, b"a\nc\nd\ne\n") == []  # a deletion touches no line of the new file


# --- the body -----------------------------------------------------------------------------------


def test_the_body_says_why_lists_tasks_with_risk_shows_diffs_and_what_needs_a_person(repo, tmp_path):
    body_file = tmp_path / "body.md"
    result = invoke("--rule", RULE, "--rule", "send-once", "--body-file", str(body_file))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    body = body_file.read_text()
    assert body.index("## Why") < body.index("## Tasks changed") < body.index("## What changed")
    assert body.index("## What changed") < body.index("## What still needs a person") < body.index("## How to verify")
    assert "at-least-once delivery" in body and "task_acks_late = True" in body
    assert "| `tasks.pay` | **critical** | `tasks.py:11` (create-to-get-or-create, safe): Payout.objects.create() -> get_or_create(period)" in body
    assert "| `tasks.notify` | **high** |" in body
    assert "| `tasks.reserve` | **moderate** |" in body
    assert body.index("`tasks.pay`") < body.index("`tasks.notify`") < body.index("`tasks.reserve`")  # riskiest first
    assert "```diff\n--- a/tasks.py\n+++ b/tasks.py\n" in body
    assert '+    Payout.objects.get_or_create(period=period, defaults={"amount": amount})' in body
    assert '+    send_mail_once("Paid"' in body
    # what a person still has to do: the unsafe fix not written (a guess from the project's own query), the migration
    assert (
        "- [ ] `tasks.py:22` (tasks.store_rate, moderate, `create-to-get-or-create`, unsafe fix not written "
        "(`--unsafe-fixes` writes it)): Rate.objects.create() -> get_or_create(currency, value)"
    ) in body
    assert "the project looks its rows up by (currency, value) at tasks.py:" in body
    assert "Migration for the new fields: run `python manage.py makemigrations`" in body
    assert "`idem-fix apply --rule create-to-get-or-create --rule send-once --check .` exits 0" in body
    assert "Wrote the pull request body to" in result.stderr


def test_unsafe_fixes_go_into_a_commit_of_their_own_marked_for_review(repo, tmp_path):
    body_file = tmp_path / "body.md"
    result = invoke("--rule", RULE, "--unsafe-fixes", "--body-file", str(body_file))
    assert result.exit_code == 0, result.output
    name = f"idem-fix/{RULE}"
    safe, unsafe = (c.split(" ", 1) for c in log(repo, f"main..{name}"))
    assert safe[1] == f"idem-fix: {RULE} in tasks.pay, tasks.reserve"
    assert unsafe[1] == f"idem-fix: {RULE} (unsafe, review) in tasks.store_rate"
    message = git_out(repo, "log", "-1", "--format=%B", unsafe[0])
    assert "UNSAFE FIXES" in message and "the project looks its rows up by (currency, value)" in message
    assert "Rate.objects.get_or_create(currency=currency, value=value)" in git_out(repo, "show", unsafe[0])
    assert "Rate.objects" not in git_out(repo, "show", safe[0])
    body = body_file.read_text()
    assert f"### `{RULE}`, unsafe fixes ({unsafe[0][:7]}): review each hunk" in body
    assert "- [ ] Review the unsafe fix at `tasks.py:22` (tasks.store_rate)" in body


def test_long_diffs_are_trimmed_in_the_body():
    diff = "--- a/x.py\n+++ b/x.py\n" + "".join(f"+line {i}\n" for i in range(100))
    excerpt = pull_request._excerpt(diff)
    assert excerpt.count("\n+line") == pull_request.DIFF_LINES_PER_FILE
    assert excerpt.endswith("... 60 more lines: see the commit")


def test_markdown_in_messages_is_shown_as_written():
    assert pull_request._cell("a | b **kw <T>\nnext") == "a \\| b \\*\\*kw &lt;T> next"
    assert pull_request._fence("x ``` y") == "````"


# --- push and open ------------------------------------------------------------------------------


def test_push_sends_the_branch_to_a_bare_remote(repo, bare_remote):
    result = invoke("--rule", RULE, "--push")
    assert result.exit_code == 0, result.output
    remote_head = git_out(bare_remote, "rev-parse", f"refs/heads/{BRANCH}")
    assert remote_head == branches(repo)[BRANCH]
    assert f"Pushed {BRANCH} to origin" in result.stderr


def test_a_failed_push_keeps_the_local_branch_and_says_so(repo, bare_remote, tmp_path):
    other = tmp_path / "other"
    git_out(tmp_path, "clone", "-q", str(bare_remote), str(other))
    git_out(other, "checkout", "-q", "-b", BRANCH)
    (other / "README.md").write_text("someone else's branch\n")
    commit_all(other, "theirs")
    git_out(other, "push", "-q", "origin", BRANCH)

    result = invoke("--rule", RULE, "--push")
    assert result.exit_code == 1
    assert f"branch {BRANCH} is ready locally" in result.stderr and "pushing it to origin failed" in result.stderr
    assert BRANCH in branches(repo)

    forced = invoke("--rule", RULE, "--push", "--force")
    assert forced.exit_code == 0, forced.output
    assert git_out(bare_remote, "rev-parse", f"refs/heads/{BRANCH}") == branches(repo)[BRANCH]


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        self.server.requests.append(
            {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "json": json.loads(raw)}
        )
        status, payload, extra = self.server.reply
        data = json.dumps(payload).encode()
        self.send_response(status)
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.requests = []
    server.reply = (201, {"html_url": "https://github.example/acme/shop/pull/7", "web_url": "https://gitlab.example/acme/shop/-/merge_requests/7"}, {})
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_open_github_posts_the_pull_request_with_the_token_only_in_the_header(repo, bare_remote, api):
    result = invoke("--rule", RULE, "--open", "github", "--repo", "acme/shop", "--api-url", api.url, env={"GITHUB_TOKEN": TOKEN})

    assert result.exit_code == 0, result.output
    assert len(api.requests) == 1
    request = api.requests[0]
    assert request["path"] == "/repos/acme/shop/pulls"
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["accept"] == "application/vnd.github+json"
    sent = request["json"]
    assert sent["title"] == "Make 2 Celery tasks safe to run twice (create-to-get-or-create)"
    assert sent["head"] == BRANCH and sent["base"] == "main" and sent["draft"] is False
    assert sent["body"].startswith("## Why") and "`tasks.pay` | **critical**" in sent["body"]
    assert result.stdout.strip() == "https://github.example/acme/shop/pull/7"
    assert git_out(bare_remote, "rev-parse", f"refs/heads/{BRANCH}") == branches(repo)[BRANCH]  # --open pushes
    assert TOKEN not in result.output


def test_open_github_takes_the_repository_from_the_remote_url_and_the_api_from_the_environment(repo, bare_remote, api):
    git_out(repo, "remote", "set-url", "origin", "git@github.com:acme/shop.git")
    git_out(repo, "remote", "set-url", "--push", "origin", str(bare_remote))
    env = {"GITHUB_TOKEN": TOKEN, "IDEM_FIX_GITHUB_API_URL": api.url}
    result = invoke("--rule", RULE, "--open", "github", "--draft", "--title", "Payouts: safe twice", env=env)
    assert result.exit_code == 0, result.output
    sent = api.requests[0]["json"]
    assert api.requests[0]["path"] == "/repos/acme/shop/pulls"
    assert sent["title"] == "Payouts: safe twice" and sent["draft"] is True


def test_open_gitlab_posts_a_merge_request(repo, bare_remote, api):
    token = "glpat-Secret0123456789"
    result = invoke("--rule", RULE, "--open", "gitlab", "--repo", "acme/shop", "--api-url", api.url, env={"GITLAB_TOKEN": token})
    assert result.exit_code == 0, result.output
    request = api.requests[0]
    assert request["path"] == "/projects/acme%2Fshop/merge_requests"
    assert request["headers"]["private-token"] == token
    sent = request["json"]
    assert sent["source_branch"] == BRANCH and sent["target_branch"] == "main"
    assert sent["title"].startswith("Make 2 Celery tasks") and sent["description"].startswith("## Why")
    assert result.stdout.strip() == "https://gitlab.example/acme/shop/-/merge_requests/7"
    assert token not in result.output


def test_api_errors_never_show_the_token(repo, bare_remote, api):
    api.reply = (401, {"message": f"Bad credentials: {TOKEN}"}, {})
    result = invoke("--rule", RULE, "--open", "github", "--repo", "acme/shop", "--api-url", api.url, env={"GITHUB_TOKEN": TOKEN})
    assert result.exit_code == 1
    assert "GitHub answered 401" in result.stderr and "Bad credentials: ***" in result.stderr
    assert TOKEN not in result.output


def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else(repo, bare_remote, api):
    api.reply = (307, {}, {"Location": api.url + "/elsewhere"})
    result = invoke("--rule", RULE, "--open", "github", "--repo", "acme/shop", "--api-url", api.url, env={"GITHUB_TOKEN": TOKEN})
    assert result.exit_code == 1
    assert "GitHub answered 307" in result.stderr
    assert [r["path"] for r in api.requests] == ["/repos/acme/shop/pulls"]
    assert TOKEN not in result.output


def test_an_unreachable_api_and_an_unexpected_error_never_show_the_token(repo, bare_remote, monkeypatch):
    with socket_closed_port() as port:
        url = f"http://127.0.0.1:{port}"
        result = invoke("--rule", RULE, "--open", "github", "--repo", "acme/shop", "--api-url", url, env={"GITHUB_TOKEN": TOKEN})
    assert result.exit_code == 1
    assert "cannot reach GitHub" in result.stderr
    assert TOKEN not in result.output

    def explode(*args, **kwargs):
        raise RuntimeError(f"token was {args[2].reveal()} and {args[2]!r}")

    monkeypatch.setattr(pull_request, "open_github", explode)
    result = invoke("--rule", RULE, "--open", "github", "--repo", "acme/shop", env={"GITHUB_TOKEN": TOKEN})
    assert result.exit_code == 1
    assert "RuntimeError: token was *** and Secret('***')" in result.stderr
    assert TOKEN not in result.output


def socket_closed_port():
    import contextlib
    import socket

    @contextlib.contextmanager
    def closed():
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        yield port

    return closed()


def test_without_a_token_it_prints_the_body_and_the_gh_command(repo, bare_remote):
    result = invoke("--rule", RULE, "--open", "github", "--repo", "acme/shop")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Make 2 Celery tasks safe to run twice")
    assert "## Why" in result.stdout
    assert "GITHUB_TOKEN is not set" in result.stderr
    assert (
        f"gh pr create --repo acme/shop --base main --head {BRANCH} "
        "--title 'Make 2 Celery tasks safe to run twice (create-to-get-or-create)' --body-file pr-body.md"
    ) in result.stderr
    assert git_out(bare_remote, "rev-parse", f"refs/heads/{BRANCH}")  # pushed, so the command works as is


# --- usage errors exit 2 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rule", "no-such-rule"], "unknown rule: no-such-rule"),
        (["--rule", RULE, "nowhere"], "no such file or folder: nowhere"),
        (["--rule", RULE, "--base", "no-such-branch"], "--base no-such-branch: no such branch or commit"),
        (["--rule", RULE, "--branch", "bad..name"], "not a valid branch name"),
        (["--rule", RULE, "--push"], "no remote named origin"),
        (["--rule", RULE, "--open", "github", "--remote", "upstream"], "no remote named upstream"),
    ],
)
def test_usage_errors_exit_2_and_create_nothing(repo, args, message):
    before = state(repo)
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert state(repo) == before and set(branches(repo)) == {"main"}


def test_open_needs_a_repository_name_and_an_https_api(repo, bare_remote):
    result = invoke("--rule", RULE, "--open", "github")  # the remote is a local path
    assert result.exit_code == 2
    assert "pass --repo OWNER/NAME" in result.stderr
    result = invoke("--rule", RULE, "--open", "github", "--repo", "acme/shop", "--api-url", "http://api.example.com")
    assert result.exit_code == 2
    assert "use an https:// URL" in result.stderr
    assert set(branches(repo)) == {"main"}


def test_paths_outside_a_repository_or_not_committed_exit_2(repo, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    result = invoke("--rule", RULE, str(outside))
    assert result.exit_code == 2 and "not inside a git repository" in result.stderr
    (repo / "new_tasks.py").write_text("x = 1\n")
    result = invoke("--rule", RULE, "new_tasks.py")
    assert result.exit_code == 2 and "not in the base commit" in result.stderr and "new_tasks.py" in result.stderr


# --- small parts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, slug",
    [
        ("git@github.com:acme/shop.git", "acme/shop"),
        ("https://github.com/acme/shop", "acme/shop"),
        ("https://user:pw@ghe.example.com/acme/shop.git/", "acme/shop"),
        ("ssh://git@gitlab.example.com:2222/group/sub/shop.git", "group/sub/shop"),
        ("/srv/git/shop.git", None),
        ("file:///srv/git/shop.git", None),
        ("../shop.git", None),
    ],
)
def test_repository_name_from_remote_url(url, slug):
    assert pull_request.repo_slug(url) == slug


def test_redact_hides_tokens_and_url_credentials():
    secret = pull_request.Secret(TOKEN)
    assert repr(secret) == str(secret) == "Secret('***')"
    text = f"failed with {TOKEN} at https://x-access-token:{TOKEN}@github.com/acme/shop.git"
    assert pull_request.redact(text, [secret]) == "failed with *** at https://***@github.com/acme/shop.git"


def test_the_configuration_commit_comes_last_and_names_the_tasks_that_can_still_run_twice(repo):
    write_tree(repo, {
        "celery_app.py": """
            import os

            from celery import Celery

            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")

            app = Celery("project")
            app.config_from_object("django.conf:settings", namespace="CELERY")
        """,
        "settings.py": 'CELERY_BROKER_URL = "amqp://guest@rabbitmq//"\n',
    })
    commit_all(repo, "celery app")

    result = invoke("--rule", "acks-late-config", "--rule", RULE, ".")  # asked first, committed last

    assert result.exit_code == 0, result.output
    (name,) = set(branches(repo)) - {"main"}
    subjects = [c.split(" ", 1)[1] for c in log(repo, f"main..{name}")]
    assert [s.split(" ")[1] for s in subjects] == [RULE, "acks-late-config"]
    last = log(repo, f"main..{name}")[-1].split(" ", 1)[0]
    assert git_out(repo, "show", "--name-only", "--format=", last).splitlines() == ["settings.py", "test_celery_at_least_once.py"]
    assert "CELERY_TASK_ACKS_LATE = True" in git_out(repo, "show", f"{name}:settings.py")
    assert "with it, these tasks can still run twice (1" in result.stdout and "`tasks.store_rate`" in result.stdout
    assert "4. The last commit turns on at-least-once delivery" in result.stdout
