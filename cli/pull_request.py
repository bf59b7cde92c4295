"""The work behind `idem-fix pr`: a branch with one commit per rule, a pull request body, and the
calls that push the branch and open the pull request.

The rules run in a temporary `git worktree` checked out (detached) at the base commit, never in the
user's work tree: the user's branch, index and files are not touched at any point, so a failure
anywhere leaves them exactly as they were. The branch ref is created last, once every rule has been
committed; pushing and opening come after that.

Tokens travel only in the Authorization header of the API request (never forwarded on a redirect:
redirects are refused) and are wrapped in `Secret`, whose repr and str never show the value; every
message shown to the user goes through `redact`.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shlex
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import git

from idem_fix.codemods.engine.config import Config, ConfigError
from idem_fix.codemods.engine.writes import FileChange, write_atomic
from idem_fix.codemods.engine.report import RISKS
from idem_fix.codemods.engine.rules import Options, Rule
from idem_fix.codemods.engine.levels import Applicability, Status
from idem_fix.codemods.engine.runner import Step, run_rules, steps_for

from .formatting import FormatError, Style, project_style, restyle

from . import __version__

GITHUB_API = "https://api.github.com"
GITLAB_API = "https://gitlab.com/api/v4"
NO_TASK = "(not reached from a task)"
DIFF_LINES_PER_FILE = 40  # diff lines shown per file in the body; the commits hold the rest
DIFF_CHARS = 30_000  # all excerpts together: GitHub refuses bodies over 65,536 characters
BODY_CHARS = 60_000


class PullRequestError(Exception):
    """A failure to tell the user about: `code` 1 (something failed) or 2 (the command was used wrongly)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


# --- secrets -------------------------------------------------------------------------------------


class Secret:
    """A token that never shows itself: str and repr print *** (so do tracebacks that show locals)."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None):
        self._value = value or ""

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def redact(text: str, secrets: list[Secret]) -> str:
    """`text` without any of the secrets' values, nor user:password@ in URLs."""
    for secret in secrets:
        value = secret.reveal()
        if len(value) >= 4:
            text = text.replace(value, "***")
    return _USERINFO.sub("***@", text)


# --- the repository ------------------------------------------------------------------------------


def _git(repo: git.Repo, *args: str, hooks: Path | None = None) -> str:
    """Run git in `repo`. Pathspecs are literal; nothing optional (the index's stat cache) is written;
    with `hooks`, git looks for hooks in that (empty) folder, so none of the project's hooks run."""
    command = [git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git", "--literal-pathspecs", "--no-optional-locks"]
    if hooks is not None:
        command += ["-c", f"core.hooksPath={hooks}"]
    return repo.git.execute([*command, *args])


def git_error(error: git.GitCommandError) -> str:
    """What git said, without GitPython's wrapping."""
    stderr = str(error.stderr or "").strip()
    match = re.fullmatch(r"stderr: '(.*)'", stderr, re.DOTALL)
    text = (match.group(1) if match else stderr).strip() or str(error)
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


@dataclass
class Target:
    repo: git.Repo
    top: Path  # the work tree's root
    paths: list[str]  # the PATHS, relative to `top`, in posix form ("." for the root)


def locate(paths: list[Path]) -> Target:
    """The repository holding `paths` (all of them), and the paths relative to its root."""
    resolved = [p.resolve() for p in paths]
    start = resolved[0] if resolved[0].is_dir() else resolved[0].parent
    try:
        repo = git.Repo(start, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise PullRequestError(f"{paths[0]} is not inside a git repository", 2) from None
    if repo.bare or not repo.working_tree_dir:
        raise PullRequestError(f"{repo.git_dir} is a bare repository: run idem-fix pr in a work tree", 2)
    top = Path(repo.working_tree_dir).resolve()
    relative = []
    for given, path in zip(paths, resolved):
        try:
            relative.append(path.relative_to(top).as_posix())
        except ValueError:
            raise PullRequestError(f"{given} is outside the repository at {top}", 2) from None
    return Target(repo, top, relative)


def resolve_base(repo: git.Repo, base: str | None) -> str:
    """The commit the branch starts from: `base`, or HEAD."""
    ref = base or "HEAD"
    if ref.startswith("-"):
        raise PullRequestError(f"--base {ref}: not a commit", 2)
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}")
    except git.GitCommandError:
        if base:
            raise PullRequestError(f"--base {base}: no such branch or commit", 2) from None
        raise PullRequestError("the repository has no commit yet: commit the project first", 2) from None


def current_branch(repo: git.Repo) -> str | None:
    return None if repo.head.is_detached else repo.active_branch.name


def target_branch(repo: git.Repo, base: str | None) -> str | None:
    """The branch the pull request asks to merge into: `--base` when it names a branch (local, or a
    remote one such as origin/main), else the branch the user is on."""
    if base is None:
        return current_branch(repo)
    try:
        full = repo.git.rev_parse("--symbolic-full-name", base).strip()
    except git.GitCommandError:
        return None
    if full.startswith("refs/heads/"):
        return full[len("refs/heads/") :]
    for remote in repo.remotes:
        prefix = f"refs/remotes/{remote.name}/"
        if full.startswith(prefix):
            return full[len(prefix) :]
    return None


def check_branch_name(repo: git.Repo, name: str) -> None:
    if not name or name.startswith("-"):
        raise PullRequestError(f"--branch {name!r}: not a valid branch name", 2)
    try:
        repo.git.check_ref_format("--branch", name)
    except git.GitCommandError:
        raise PullRequestError(f"--branch {name}: not a valid branch name", 2) from None


def branch_commit(repo: git.Repo, name: str) -> git.Commit | None:
    try:
        return repo.commit(repo.git.rev_parse("--verify", "--quiet", f"refs/heads/{name}^{{commit}}"))
    except (git.GitCommandError, ValueError):
        return None


def set_branch(repo: git.Repo, name: str, sha: str, force: bool) -> None:
    """Create the branch at `sha` (or move it there with `force`). git itself refuses to move a branch
    that is checked out in any work tree."""
    _git(repo, "branch", *(["--force"] if force else []), name, sha)


def dirty(repo: git.Repo, files: list[str]) -> list[str]:
    """Those of `files` (relative to the root) with uncommitted changes, staged or not, in the user's
    work tree. Reads only: no index refresh is written."""
    if not files:
        return []
    out = _git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *files)
    found, skip = set(), False
    for entry in out.split("\0"):
        if skip:  # the source of a rename or copy
            skip = False
            continue
        if len(entry) > 3:
            found.add(entry[3:])
            skip = entry[0] in "RC"
    return sorted(found)


def remote_names(repo: git.Repo) -> list[str]:
    return [remote.name for remote in repo.remotes]


def remote_url(repo: git.Repo, remote: str) -> str:
    try:
        return repo.git.remote("get-url", remote)
    except git.GitCommandError:
        return ""


def push(repo: git.Repo, remote: str, branch: str, force: bool) -> None:
    _git(repo, "push", "--quiet", *(["--force"] if force else []), remote, f"refs/heads/{branch}:refs/heads/{branch}")


def repo_slug(url: str) -> str | None:
    """owner/name (or group/sub/name on GitLab) from a remote URL: https://host/owner/name.git,
    ssh://git@host:22/owner/name, git@host:owner/name.git. None for local paths."""
    if "://" in url:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "file" or not parts.hostname:
            return None
        path = parts.path
    elif re.match(r"^[^/:]+:[^/\\]", url) and not re.match(r"^[A-Za-z]:[\\/]", url):
        path = url.split(":", 1)[1]
    else:
        return None
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    return path if "/" in path else None


# --- the build: one commit per rule in a temporary worktree -----------------------------------


@dataclass
class Item:
    """A finding, with its path relative to the repository root."""

    rule: str
    task: str
    risk: str
    path: str
    line: int
    message: str
    applicability: str  # safe | unsafe | manual
    reason: str = ""


@dataclass
class Edit:
    path: str  # relative to the root, posix
    old: bytes
    new: bytes

    def diff(self) -> str:
        # A relative path shows as itself in the diff headers: a/<path>, b/<path>.
        return FileChange(Path(self.path), self.old, self.new).diff()


@dataclass
class Commit:
    rule: str
    summary: str
    sha: str
    subject: str
    edits: list[Edit]
    fixed: list[Item]
    unsafe: bool = False  # best guesses, each hunk to review


@dataclass
class Build:
    base: str
    commits: list[Commit] = field(default_factory=list)
    manual: list[Item] = field(default_factory=list)  # risky sites the rules did not fix (manual, or unsafe and not asked for)
    unchanged: list[str] = field(default_factory=list)  # rules that changed nothing
    warnings: list[str] = field(default_factory=list)
    style: Style = Style(None, None)  # the project's formatter and import sorter, applied to the rewritten lines
    head: str = ""
    tree: str = ""

    @property
    def touched(self) -> list[str]:
        return sorted({edit.path for commit in self.commits for edit in commit.edits})

    @property
    def fixed(self) -> list[Item]:
        return [item for commit in self.commits for item in commit.fixed]


class _Worktree:
    """`git worktree add --detach` of a commit in a temporary folder; removed on exit, also on failure."""

    def __init__(self, repo: git.Repo, commit: str):
        self.main, self.commit = repo, commit
        self.leftover = ""

    def __enter__(self) -> "_Worktree":
        self.temp = Path(tempfile.mkdtemp(prefix="idem-fix-pr-")).resolve()
        self.hooks = self.temp / "no-hooks"
        self.hooks.mkdir()
        self.path = self.temp / "work"
        self.repo = None
        try:
            _git(self.main, "worktree", "add", "--detach", "--quiet", str(self.path), self.commit, hooks=self.hooks)
            self.repo = git.Repo(self.path)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.repo is not None:
            self.repo.close()
        if self.path.exists():
            try:
                _git(self.main, "worktree", "remove", "--force", "--force", str(self.path))
            except git.GitCommandError:
                self.leftover = str(self.path)
        shutil.rmtree(self.temp, ignore_errors=True)


def build(target: Target, base: str, rules: list[Rule], options: Options, black: bool | None, on_progress=None, on_stage=None) -> Build:
    """Apply each rule in turn to a worktree of `base` and commit what it changed. The commits are
    dangling until the caller points a branch at `Build.head`."""
    result = Build(base=base)
    tree = _Worktree(target.repo, base)
    with tree:
        roots = [tree.path / p for p in target.paths]
        missing = [p for p, root in zip(target.paths, roots) if not root.exists()]
        if missing:
            raise PullRequestError(
                f"not in the base commit {base[:7]}: {', '.join(missing)} (untracked, or added since): commit it first", 2
            )
        start = roots[0] if roots[0].is_dir() else roots[0].parent
        config = _config(start, tree.path)
        result.style = _style(start, tree.path, black)

        def rel(path: Path) -> str:
            return Path(path).relative_to(tree.path).as_posix()

        def item(finding, project) -> Item:
            source = rel(project.source_of(finding.module).path)
            message, reason = _unmap(finding.message, tree.path), _unmap(finding.reason, tree.path)
            return Item(finding.rule, finding.task, finding.risk, source, finding.line, message, str(finding.applicability or ""), reason)

        def commit(step: Step, found: list, changes: list, project) -> dict[Path, bytes]:
            """After each step: write and format its files, commit them; the next step reads what is written."""
            failed = [c for c in changes if c.error]
            if failed:
                problems = "; ".join(f"{rel(c.path)}: {c.error}" for c in failed)
                raise PullRequestError(f"{step.rule.name} could not rewrite {problems}")
            changed = [c for c in changes if c.changed]
            applied = {plan for c in changed for plans in c.applied.values() for plan in plans}
            unsafe = Applicability.SAFE not in step.writes
            fixed = []
            for finding in found:
                if finding.applicability in step.writes and finding.plan in applied:
                    fixed.append(item(finding, project))
                elif not unsafe and finding.status is not Status.OK and not finding.written_by(options.unsafe_fixes):
                    result.manual.append(item(finding, project))  # reported once, from the rule's first step
            edits, formatted = [], {}
            for change in changed:
                try:
                    new = restyle(change.path, change.old, change.new, result.style, tree.path)
                except FormatError as error:
                    raise PullRequestError(f"{rel(change.path)}: {error}") from None
                write_atomic(change.path, new)
                formatted[change.path] = new
                if new != change.old:
                    edits.append(Edit(rel(change.path), change.old, new))
            if not edits:
                result.unchanged.append(step.rule.name + (" (unsafe fixes)" if unsafe else ""))
                return formatted
            message = commit_message(step.rule, fixed, unsafe)
            _git(tree.repo, "add", "--", *(e.path for e in edits), hooks=tree.hooks)
            _git(tree.repo, "commit", "--no-verify", "--quiet", "-m", message, hooks=tree.hooks)
            sha = tree.repo.head.commit.hexsha
            result.commits.append(Commit(step.rule.name, step.rule.summary, sha, message.splitlines()[0], edits, fixed, unsafe))
            return formatted

        steps = steps_for(rules, options.unsafe_fixes, unsafe_apart=True)
        run = run_rules(roots, steps, options, config, after_step=commit, on_progress=on_progress, on_stage=on_stage)
        result.warnings.extend(f"{rel(e.absolute)}:{e.line}: {e.message}" if e.absolute else str(e) for e in run.errors)
        head = tree.repo.head.commit
        result.head, result.tree = head.hexsha, head.tree.hexsha
    if tree.leftover:
        result.warnings.append(f"could not remove the temporary worktree {tree.leftover}: run `git worktree prune`")
    return result


def _unmap(text: str, top: Path) -> str:
    """A message about the worktree, with its paths relative to the root as in the repository."""
    for prefix in (str(top), os.path.relpath(top)):
        text = text.replace(prefix + os.sep, "")
    return text


def _config(start: Path, top: Path) -> Config:
    """[tool.idem-fix] from the base commit's pyproject.toml (never one above the temporary folder)."""
    try:
        config = Config.find(start)
    except ConfigError as error:
        raise PullRequestError(_unmap(str(error), top), 2) from None
    if config.path is not None and top not in config.path.parents:
        return Config()
    return config


def _style(start: Path, top: Path, black: bool | None) -> Style:
    """The project's own style; `--black` / `--no-black` choose black or no formatter instead."""
    found = project_style(start, top)
    if black is None:
        return found
    return Style("black" if black else None, found.imports)


def _task(item: Item) -> str:
    return item.task or NO_TASK


def _max_risk(items: list[Item]) -> str:
    return max((i.risk for i in items), key=lambda r: RISKS.index(r) if r in RISKS else -1, default="low")


def commit_message(rule: Rule, fixed: list[Item], unsafe: bool = False) -> str:
    tasks = list(dict.fromkeys(_task(i) for i in fixed))
    name = f"{rule.name} (unsafe, review)" if unsafe else rule.name
    subject = f"idem-fix: {name} in {', '.join(tasks)}" if tasks else f"idem-fix: {name}"
    if len(subject) > 72:
        subject = f"idem-fix: {name} in {len(tasks)} tasks"
    lines = [subject, "", f"Make Celery tasks safe to run twice (task_acks_late): {rule.summary}", ""]
    if unsafe:
        lines += [
            "UNSAFE FIXES: each hunk is a best guess with named evidence, not a proven rewrite. Review each one",
            "against the reason below before merging; revert this commit to keep only the proven fixes.",
            "",
        ]
    if tasks:
        lines.append("Tasks changed:")
        for task in tasks:
            mine = [i for i in fixed if _task(i) == task]
            lines.append(f"- {task} ({_max_risk(mine)})")
            lines.extend(f"  {i.path}:{i.line}: {i.message}" + (f" ({i.reason})" if i.reason else "") for i in mine)
    return "\n".join(lines).rstrip() + "\n"


# --- the pull request's title and body ---------------------------------------------------------

WHY = (
    "Celery acknowledges a message when a worker receives it, so a worker that dies mid-task (OOM, "
    "SIGKILL, a deploy) loses the task. With at-least-once delivery (`task_acks_late = True`, "
    "`task_reject_on_worker_lost = True`) the message is acknowledged only when the task finishes, and "
    "a task whose worker died is delivered again: every task can then run twice. A task that is not "
    "idempotent repeats its side effect on the second run (a second payout, a second email). This pull "
    "request rewrites the code these tasks reach so that a second run finds the work of the first "
    "instead of doing it again."
)
_ADD_CONSTRAINT = re.compile(r"\badd (?:a |models\.)?unique ?constraint", re.IGNORECASE)
_MIGRATION = re.compile(r"makemigrations|\bmigration\b", re.IGNORECASE)


def _cell(text: str) -> str:
    """One line of Markdown that shows the text as written (inside a table cell too)."""
    text = " ".join(text.split())
    for char, escaped in (("\\", "\\\\"), ("|", "\\|"), ("*", "\\*"), ("<", "&lt;")):
        text = text.replace(char, escaped)
    return text


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _excerpt(diff: str) -> str:
    lines = diff.splitlines()
    header, rest = lines[:2], lines[2:]
    if len(rest) > DIFF_LINES_PER_FILE:
        more = len(rest) - DIFF_LINES_PER_FILE
        rest = rest[:DIFF_LINES_PER_FILE] + [f"... {more} more line{'s' * (more != 1)}: see the commit"]
    return "\n".join(header + rest)


def title_of(build: Build) -> str:
    tasks = {i.task for i in build.fixed if i.task}
    rules = ", ".join(c.rule for c in build.commits)
    if not tasks:
        return f"Make Celery task code safe to run twice ({rules})"
    return f"Make {len(tasks)} Celery task{'s' * (len(tasks) != 1)} safe to run twice ({rules})"


def needs_a_person(build: Build) -> list[str]:
    items = []
    for item in build.manual:
        what = "unsafe fix not written (`--unsafe-fixes` writes it)" if item.applicability == "unsafe" else "manual"
        reason = f" ({_cell(item.reason)})" if item.reason else ""
        items.append(f"- [ ] `{item.path}:{item.line}` ({_task(item)}, {item.risk}, `{item.rule}`, {what}): {_cell(item.message)}{reason}")
    for item in build.fixed:
        if item.applicability == "unsafe":
            items.append(f"- [ ] Review the unsafe fix at `{item.path}:{item.line}` ({_task(item)}): {_cell(item.reason)}")
    for item in build.fixed:
        if _ADD_CONSTRAINT.search(item.message):
            items.append(
                f"- [ ] Unique constraint to add (then `makemigrations`), `{item.path}:{item.line}` ({_task(item)}): "
                f"{_cell(item.message)}"
            )
    models = sorted({e.path for c in build.commits for e in c.edits if re.search(r"(^|/)models(\.py$|/)", e.path)})
    flagged = [i for i in build.fixed if _MIGRATION.search(i.message)]
    if models or flagged:
        where = ", ".join(f"`{p}`" for p in models) or ", ".join(f"`{i.path}:{i.line}`" for i in flagged)
        items.append(
            f"- [ ] Migration for the new fields: run `python manage.py makemigrations`, review it and commit it "
            f"to this branch (models changed: {where})"
        )
    return items


def _still_unsafe(build: Build, configuration: set[str]) -> str:
    """What the configuration commit means for the tasks no commit fixed: with it, they can run twice."""
    tasks = sorted({_task(i) for i in build.manual if i.rule not in configuration and i.task})
    if not tasks:
        return "The last commit: every task the rules found risky is fixed above, so it is safe to turn at-least-once on."
    shown = ", ".join(f"`{t}`" for t in tasks)
    return (f"The last commit, on purpose: with it, these tasks can still run twice ({len(tasks)}; see \"What still needs a "
            f"person\"): {shown}. Revert it to merge the task fixes alone.")


def render_body(build: Build, rules: list[Rule], paths: list[str], base_label: str) -> str:
    configuration = {r.name for r in rules if r.last}
    parts = ["## Why", "", WHY, ""]
    fixed = build.fixed
    by_task: dict[str, list[Item]] = defaultdict(list)
    for item in fixed:
        by_task[_task(item)].append(item)
    order = sorted(by_task, key=lambda t: (-RISKS.index(_max_risk(by_task[t])) if _max_risk(by_task[t]) in RISKS else 0, t))
    parts += ["## Tasks changed", "", "| Task | Risk | What changed and why |", "|---|---|---|"]
    for task in order:
        reasons = "<br>".join(f"`{i.path}:{i.line}` ({i.rule}, {i.applicability}): {_cell(i.message)}" for i in by_task[task])
        parts.append(f"| `{task}` | **{_max_risk(by_task[task])}** | {reasons} |")
    parts += ["", "## What changed", ""]
    budget = DIFF_CHARS
    for commit in build.commits:
        if commit.unsafe:
            parts += [
                f"### `{commit.rule}`, unsafe fixes ({commit.sha[:7]}): review each hunk", "",
                "Best guesses with named evidence (each reason is in the commit message and the table above), not proven "
                "rewrites. Revert this commit to keep only the proven ones.", "",
            ]
        else:
            parts += [f"### `{commit.rule}` ({commit.sha[:7]})", "", commit.summary, ""]
        if commit.rule in configuration and not commit.unsafe:
            parts += [_still_unsafe(build, configuration), ""]
        for edit in commit.edits:
            excerpt = _excerpt(edit.diff())
            if len(excerpt) > budget:
                parts += [f"`{edit.path}`: too long to show here, see the commit.", ""]
                continue
            budget -= len(excerpt)
            fence = _fence(excerpt)
            parts += [f"{fence}diff", excerpt, fence, ""]
    if build.style:
        tools = " and ".join(t for t in (build.style.formatter, build.style.imports and f"{build.style.imports} (imports)") if t)
        parts += [f"The lines the rules rewrote were formatted with {tools}, as the project is; the rest of each file is unchanged.", ""]
    parts += ["## What still needs a person", ""]
    people = needs_a_person(build)
    parts += people or ["Nothing: the rules rewrote every risky site they found."]
    names = " ".join(f"--rule {shlex.quote(r.name)}" for r in rules)
    where = " ".join(shlex.quote(p) for p in paths)
    parts += [
        "",
        "## How to verify",
        "",
        f"1. On this branch, `idem-fix apply {names} --check {where}` exits 0: nothing is left to rewrite, and the "
        "rewrite is idempotent.",
        "2. Run the test suite.",
        "3. Redeliver each task above: call it twice with the same arguments (in a test, `task.apply(args=...)` "
        "twice; or stop a worker with SIGKILL mid-task with acks_late on) and check its side effect happened "
        "once: one row, one email, one call to the external service.",
        "4. The last commit turns on at-least-once delivery (`acks-late-config`); its test pins the settings."
        if any(c.rule in configuration for c in build.commits)
        else "4. Then turn on at-least-once delivery: `task_acks_late = True` and `task_reject_on_worker_lost = True` "
        "(`idem-fix apply --rule acks-late-config`).",
        "",
        f"<sub>Generated by idem-fix from {base_label}, one commit per rule (and one per rule for its unsafe fixes).</sub>",
        "",
    ]
    body = "\n".join(parts)
    if len(body) > BODY_CHARS:
        body = body[:BODY_CHARS] + "\n\n... (cut: see the commits)\n"
    return body


def gh_command(title: str, head: str, base: str, body_file: str, forge: str, slug: str | None) -> str:
    if forge == "gitlab":
        return shlex.join(["glab", "mr", "create", "--source-branch", head, "--target-branch", base, "--title", title]) + (
            f' --description "$(cat {shlex.quote(body_file)})"'
        )
    return shlex.join(
        ["gh", "pr", "create", *(["--repo", slug] if slug else []), "--base", base, "--head", head, "--title", title, "--body-file", body_file]
    )


# --- opening the pull request -------------------------------------------------------------------


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_url(url: str) -> str:
    """https only; plain http for 127.0.0.1 / localhost (a local test server), never elsewhere."""
    parts = urllib.parse.urlsplit(url)
    if parts.hostname and (parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname))):
        return url.rstrip("/")
    raise PullRequestError(f"--api-url {url}: use an https:// URL (http:// only for localhost)", 2)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: the request is never sent again (with its token) somewhere else."""

    def redirect_request(self, *args, **kwargs):
        return None


def _api_detail(error: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(error.read() or b"{}")
    except (ValueError, OSError):
        return ""
    if not isinstance(data, dict):
        return ""
    said = [str(data.get(key)) for key in ("message", "error") if data.get(key)]
    for problem in data.get("errors") or []:
        said.append(str(problem.get("message") or problem) if isinstance(problem, dict) else str(problem))
    return "; ".join(said)[:500]


def _post(url: str, payload: dict, auth: tuple[str, str, Secret], forge: str, headers: dict[str, str]) -> dict:
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method="POST")
    for name, value in {"Content-Type": "application/json", "User-Agent": f"idem-fix/{__version__}", **headers}.items():
        request.add_header(name, value)
    name, prefix, token = auth
    request.add_unredirected_header(name, prefix + token.reveal())
    handlers: list = [_NoRedirect()]
    if _loopback(urllib.parse.urlsplit(url).hostname):
        handlers.append(urllib.request.ProxyHandler({}))
    try:
        with urllib.request.build_opener(*handlers).open(request, timeout=60) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        detail = _api_detail(error)
        raise PullRequestError(f"{forge} answered {error.code} {error.reason}" + (f": {detail}" if detail else "")) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise PullRequestError(f"cannot reach {forge} at {url}: {getattr(error, 'reason', error)}") from None
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise PullRequestError(f"{forge} answered something that is not JSON") from None
    return data if isinstance(data, dict) else {}


def open_github(api: str, slug: str, token: Secret, title: str, body: str, head: str, base: str, draft: bool) -> str:
    """POST /repos/{owner}/{repo}/pulls; the pull request's web address."""
    url = f"{api}/repos/{urllib.parse.quote(slug, safe='/')}/pulls"
    payload = {"title": title, "body": body, "head": head, "base": base, "draft": draft}
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    data = _post(url, payload, ("Authorization", "Bearer ", token), "GitHub", headers)
    return str(data.get("html_url") or data.get("url") or "")


def open_gitlab(api: str, slug: str, token: Secret, title: str, body: str, head: str, base: str, draft: bool) -> str:
    """POST /projects/{id}/merge_requests; the merge request's web address."""
    url = f"{api}/projects/{urllib.parse.quote(slug, safe='')}/merge_requests"
    payload = {"source_branch": head, "target_branch": base, "title": f"Draft: {title}" if draft else title, "description": body}
    data = _post(url, payload, ("PRIVATE-TOKEN", "", token), "GitLab", {"Accept": "application/json"})
    return str(data.get("web_url") or "")
