"""`idem-fix pr`: turn a reviewed dry run into a branch, one commit per rule, and a pull request.

The git work, the body and the API calls live in `pull_request`; this module reads the options,
checks them before any work starts (usage errors exit 2), and prints what happened.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from . import output
from .options import FlagMode, FlagStore, Scope, UnknownRule, rule_names

if TYPE_CHECKING:
    from idem_fix.codemods.engine.rules import Rule

TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN")


class Forge(str, enum.Enum):
    github = "github"
    gitlab = "gitlab"


def _load() -> None:
    """GitPython and the pull-request code load when `idem-fix pr` runs, not with every command
    (they cost a warm `audit` a fifth of its time)."""
    global git, prs
    import git
    from . import pull_request as prs


def all_rules() -> dict[str, Rule]:
    """The registered rules; like GitPython, loaded by this command only."""
    from idem_fix.codemods.engine.rules import all_rules as registered

    return registered()


def _say(message: str) -> None:
    output.say(message)


def pr(
    paths: Optional[List[Path]] = typer.Argument(None, help="Files or folders to fix (default: the current folder)."),
    rule: List[str] = typer.Option(..., "--rule", "-r", help="A rule to apply; repeat it, give a comma list, or `all`: one commit each, in this order (acks-late-config last)."),
    branch: Optional[str] = typer.Option(None, "--branch", "-b", help="The branch to create (default: idem-fix/<rule>+<rule>)."),
    base: Optional[str] = typer.Option(None, "--base", help="The commit or branch to start from, and the pull request's target (default: HEAD, the branch you are on)."),
    allow_dirty: bool = typer.Option(False, "--allow-dirty", help="Go on when files the rules change have uncommitted changes (they stay out of the pull request)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing branch of the same name (locally, and on the remote with --push)."),
    black: Optional[bool] = typer.Option(None, "--black/--no-black", help="Format the rewritten lines with black --line-ranges (default: when pyproject.toml has a tool.black table)."),
    body_file: Optional[Path] = typer.Option(None, "--body-file", help="Write the pull request body (Markdown) to this file instead of printing it."),
    title: Optional[str] = typer.Option(None, "--title", help="The pull request title (default: made from the tasks and rules)."),
    push: bool = typer.Option(False, "--push", help="Push the branch to --remote."),
    remote: str = typer.Option("origin", "--remote", help="The remote to push to."),
    open_: Optional[Forge] = typer.Option(None, "--open", help="Open the pull request (github) or merge request (gitlab) through its API; implies --push. Token from GITHUB_TOKEN / GITLAB_TOKEN."),
    api_url: Optional[str] = typer.Option(None, "--api-url", help="API base URL, for GitHub Enterprise or a self-hosted GitLab (also IDEM_FIX_GITHUB_API_URL / IDEM_FIX_GITLAB_API_URL)."),
    repo_slug: Optional[str] = typer.Option(None, "--repo", help="OWNER/NAME (GitLab: group/project) on the forge (default: from the remote's URL)."),
    draft: bool = typer.Option(False, "--draft", help="Open it as a draft."),
    scope: Scope = typer.Option(Scope.reachable, "--scope", help="reachable: only code a Celery task reaches; all: every function."),
    flag_mode: Optional[FlagMode] = typer.Option(None, "--flag-mode", help="sent-flag: claim-before or mark-after (default: sent-flag-mode in pyproject.toml, else chosen per task; see `idem-fix explain sent-flag`)."),
    flag_store: Optional[FlagStore] = typer.Option(None, "--flag-store", help="sent-flag: cache (a claim on the message's own task id) or field (a permanent BooleanField; needs a migration). Default: sent-flag-store in pyproject.toml, else cache."),
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="Also commit unsafe fixes (best guesses with named evidence), in a commit of their own per rule, marked for review."),
) -> None:
    """Make a branch with one commit per rule and a pull request that explains it.

    The rules run in a temporary git worktree of --base: your branch, index and work tree are never touched, and on any failure nothing is created.

    Only safe fixes are committed; with --unsafe-fixes each rule's unsafe fixes go in a commit of their own whose message and the body say they need review. Manual findings are listed, never written.

    The title and body (Markdown) list each changed task with its risk and the reason, a diff excerpt, what still needs a person and how to verify. --push pushes the branch; --open github|gitlab opens the pull request.

    Exit codes: 0 done or nothing to change, 1 a failure or a refusal (uncommitted changes, an existing branch), 2 a usage error.
    """
    _load()
    secrets = [prs.Secret(os.environ.get(name)) for name in TOKEN_VARIABLES]
    request = Request(
        paths=paths or [Path(".")], rules=rule, branch=branch, base=base, allow_dirty=allow_dirty, force=force,
        black=black, body_file=body_file, title=title, push=push or open_ is not None, remote=remote,
        forge=open_.value if open_ else "", api_url=api_url, repo_slug=repo_slug, draft=draft, options=_options(
            scope, flag_mode, flag_store, unsafe_fixes
        ),
    )
    try:
        _pr(request)
    except typer.Exit:
        raise
    except prs.PullRequestError as error:
        output.error(prs.redact(str(error), secrets))
        raise typer.Exit(error.code)
    except git.GitCommandError as error:
        output.error(prs.redact(f"git {_subcommand(error)} failed: {prs.git_error(error)}", secrets))
        raise typer.Exit(1)
    except Exception as error:  # no traceback: a frame's locals could show a token
        output.error(prs.redact(f"{type(error).__name__}: {error}", secrets))
        raise typer.Exit(1)


def _subcommand(error: git.GitCommandError) -> str:
    words = [str(w) for w in (error.command if isinstance(error.command, (list, tuple)) else str(error.command).split())]
    skip = False
    for word in words[1:]:
        if skip:
            skip = False
        elif word == "-c":
            skip = True
        elif not word.startswith("-"):
            return word
    return ""


def _select_rules(names: List[str]) -> List[Rule]:
    known = all_rules()
    try:
        return [known[n] for n in rule_names(names, list(known))]
    except UnknownRule as error:
        raise prs.PullRequestError(str(error), 2) from None


@dataclass
class Request:
    """What `idem-fix pr` was asked to do."""

    paths: List[Path]
    rules: List[str]
    branch: Optional[str]
    base: Optional[str]
    allow_dirty: bool
    force: bool
    black: Optional[bool]
    body_file: Optional[Path]
    title: Optional[str]
    push: bool
    remote: str
    forge: str  # "github" | "gitlab" | "" (do not open)
    api_url: Optional[str]
    repo_slug: Optional[str]
    draft: bool
    options: object  # engine.rules.Options


def _options(scope, flag_mode, flag_store, unsafe_fixes):
    from idem_fix.codemods.engine.rules import Options

    return Options(
        scope=scope.value,
        flag_mode=flag_mode.value if flag_mode else None,
        flag_store=flag_store.value if flag_store else None,
        unsafe_fixes=unsafe_fixes,
    )


def _pr(request: Request) -> None:
    # 1. Everything that can be checked before any work: usage errors exit 2.
    missing = [p for p in request.paths if not p.exists()]
    if missing:
        raise prs.PullRequestError(f"no such file or folder: {', '.join(map(str, missing))}", 2)
    rules = _select_rules(request.rules)
    target = prs.locate(request.paths)
    with target.repo as repo:  # closes its git processes
        _run(target, repo, rules, request)


def _run(target, repo, rules, request: Request) -> None:
    base_sha = prs.resolve_base(repo, request.base)
    current = prs.current_branch(repo)
    name = request.branch or "idem-fix/" + "+".join(r.name for r in rules)
    prs.check_branch_name(repo, name)
    if name == current:
        raise prs.PullRequestError(f"{name} is the branch you are on, and idem-fix pr never commits to it: pass another --branch", 2)
    if request.push and request.remote not in prs.remote_names(repo):
        known = ", ".join(prs.remote_names(repo)) or "none"
        raise prs.PullRequestError(f"no remote named {request.remote} (remotes: {known}): pass --remote", 2)
    forge = request.forge
    pr_base = prs.target_branch(repo, request.base)
    slug = request.repo_slug
    if forge:
        if not pr_base:
            raise prs.PullRequestError("cannot tell which branch the pull request should target: pass --base BRANCH", 2)
        slug = slug or prs.repo_slug(prs.remote_url(repo, request.remote))
        if not slug or "/" not in slug.strip("/"):
            raise prs.PullRequestError(f"cannot tell the {forge} repository from remote {request.remote}'s URL: pass --repo OWNER/NAME", 2)
        slug = slug.strip("/")
        default = prs.GITHUB_API if forge == "github" else prs.GITLAB_API
        api = prs.check_api_url(request.api_url or os.environ.get(f"IDEM_FIX_{forge.upper()}_API_URL") or default)
    base_label = request.base or current or "HEAD"
    base_text = base_sha[:7] if base_sha.startswith(base_label) else f"{base_label} ({base_sha[:7]})"

    # 2. The commits, in a temporary worktree: nothing the user has is touched.
    with output.progress("Reading files") as on_progress, output.stages() as on_stage:
        built = prs.build(target, base_sha, rules, request.options, request.black, on_progress, on_stage)
    for warning in built.warnings:
        output.warn(warning)
    if not built.commits:
        left = len(built.manual)
        _say(
            f"Nothing to change: {', '.join(r.name for r in rules)} found nothing to rewrite in {base_text}; "
            "no branch created."
            + (f" {left} risky site{'s' * (left != 1)} need{'s' * (left == 1)} a person: see `idem-fix apply --dry-run`." if left else "")
        )
        return

    # 3. Refusals, before the branch exists: uncommitted work in the files, a branch in the way.
    dirty = prs.dirty(repo, built.touched)
    if dirty and not request.allow_dirty:
        raise prs.PullRequestError(
            f"uncommitted changes in files the pull request changes: {', '.join(dirty)}. The branch starts from "
            f"{base_text} and would not include them: commit or stash them, or pass --allow-dirty. "
            "Nothing was created."
        )
    existing = prs.branch_commit(repo, name)
    if existing is not None and existing.tree.hexsha == built.tree:
        head = existing.hexsha
        _say(f"Branch {name} already holds these changes ({head[:7]}); left as it is.")
    elif existing is not None and not request.force:
        raise prs.PullRequestError(
            f"branch {name} already exists ({existing.hexsha[:7]}) with other content: pass --force to replace it, "
            "or --branch NAME. Nothing was created."
        )
    else:
        prs.set_branch(repo, name, built.head, force=existing is not None)
        head = built.head
        verb = "Replaced" if existing is not None else "Created"
        _say(f"{verb} branch {name} from {base_text}, {len(built.commits)} commit{'s' * (len(built.commits) != 1)}:")
        for commit in built.commits:
            _say(f"  {commit.sha[:7]} {commit.subject}")
        for skipped in built.unchanged:
            _say(f"  ({skipped}: nothing to change)")
    if dirty:
        _say(f"Left out (uncommitted, --allow-dirty): {', '.join(dirty)}")
    where = f"You are still on {current}" if current else "HEAD is still detached"
    _say(f"{where}; your index and work tree are unchanged.")

    # 4. The title and body, then push and open.
    pr_title = request.title or prs.title_of(built)
    body = prs.render_body(built, rules, target.paths, base_text)
    body_file = request.body_file
    if body_file is not None:
        try:
            body_file.write_text(body, encoding="utf-8")
        except OSError as error:
            raise prs.PullRequestError(f"cannot write {body_file}: {error.strerror or error}") from None
        _say(f"Wrote the pull request body to {body_file}.")
    if request.push:
        try:
            prs.push(repo, request.remote, name, request.force)
        except git.GitCommandError as error:
            raise prs.PullRequestError(
                f"branch {name} is ready locally ({head[:7]}), but pushing it to {request.remote} failed: {prs.git_error(error)}"
            ) from None
        _say(f"Pushed {name} to {request.remote}.")
    if forge:
        token_names = ("GITHUB_TOKEN", "GH_TOKEN") if forge == "github" else ("GITLAB_TOKEN",)
        token = prs.Secret(next((os.environ[n] for n in token_names if os.environ.get(n)), ""))
        if not token:
            if body_file is None:
                typer.echo(f"# {pr_title}\n\n{body}", nl=False)
            file = str(body_file) if body_file is not None else "pr-body.md"
            _say(f"{token_names[0]} is not set, so the {'pull' if forge == 'github' else 'merge'} request was not opened. Open it with:")
            _say("  " + prs.gh_command(pr_title, name, pr_base, file, forge, slug))
            if body_file is None:
                _say("(with the body printed above saved as pr-body.md)")
            return
        open_request = prs.open_github if forge == "github" else prs.open_gitlab
        url = open_request(api, slug, token, pr_title, body, name, pr_base, request.draft)
        _say(f"Opened the {'pull' if forge == 'github' else 'merge'} request:")
        typer.echo(url or "(the API did not return its address)")
        return
    if body_file is None:
        typer.echo(f"# {pr_title}\n\n{body}", nl=False)
