"""The `idem-fix` command line.

Exit codes, as ruff and black use them: 0 done (or nothing to do), 1 `--check` found something to
change or a file could not be rewritten, 2 a usage or configuration error.
"""

from __future__ import annotations

import enum
import gc
import inspect
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from idem_fix.codemods.engine.config import Config, ConfigError
from idem_fix.codemods.engine.audit import audit as run_audit

from . import __version__
from . import output
from .options import FlagMode, FlagStore, Scope, UnknownRule, rule_names
from . import report as report_formats

if TYPE_CHECKING:  # the rules and the rewriting load with the commands that use them (a warm audit does not)
    from idem_fix.codemods.engine.rules import Rule

app = typer.Typer(
    name="idem-fix",
    help=(
        "Find and fix Celery tasks that are not safe to run twice.\n\n"
        "With task_acks_late=True a task whose worker dies is delivered again, so every task must be "
        "idempotent. idem-fix finds the code tasks reach (across modules) and rewrites what would "
        "repeat a side effect."
    ),
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"idem-fix {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."),
) -> None:
    pass


NO_CACHE = typer.Option(
    False, "--no-cache", help="Do not read or write the cache (.idem-fix-cache/ in the project folder: file summaries and the last audit's report; safe to delete, ignored by git)."
)
UNSAFE_FIXES = typer.Option(
    False, "--unsafe-fixes", help="Also write unsafe fixes: best guesses with named evidence (each finding says which and why). Review them."
)
JOBS = typer.Option(os.cpu_count() or 1, "--jobs", "-j", min=1, help="Processes for parsing and rewriting many files (default: the number of cores).")


def _select_rules(names: List[str]) -> List[Rule]:
    from idem_fix.codemods.engine.rules import all_rules

    known = all_rules()
    if not names:
        output.error("no rule named: give --rule RULE (repeat it, a comma list, or all), or select = [...] in [tool.idem-fix]")
        raise typer.Exit(2)
    try:
        return [known[n] for n in rule_names(names, list(known))]
    except UnknownRule as error:
        output.error(str(error))
        raise typer.Exit(2)


def _config(paths: List[Path]) -> Config:
    try:
        return Config.find(paths[0] if paths[0].is_dir() else paths[0].parent)
    except ConfigError as error:
        output.error(str(error))
        raise typer.Exit(2)


class Risk(str, enum.Enum):
    critical = "critical"
    high = "high"
    moderate = "moderate"
    low = "low"


@app.command()
def apply(
    paths: Optional[List[Path]] = typer.Argument(None, help="Files or folders to fix (default: the current folder)."),
    rule: Optional[List[str]] = typer.Option(
        None, "--rule", "-r",
        help="A rule to apply (see `idem-fix rules`); repeat it, give a comma list, or `all`. Default: select in [tool.idem-fix].",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", "--diff", help="Print a unified diff of the changes; write nothing; exit 1 when there are any (like ruff --diff)."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 when anything would change (for CI and pre-commit)."),
    scope: Scope = typer.Option(Scope.reachable, "--scope", help="reachable: only code a Celery task reaches; all: every function."),
    flag_mode: Optional[FlagMode] = typer.Option(
        None, "--flag-mode",
        help="sent-flag (default: sent-flag-mode in pyproject.toml, else chosen per task): claim-before claims the message atomically "
        "before the first side effect (at most once); mark-after checks first and marks after the send (at least once).",
    ),
    flag_store: Optional[FlagStore] = typer.Option(
        None, "--flag-store",
        help="sent-flag (default: sent-flag-store in pyproject.toml, else cache): cache claims the message's own task id in Django's "
        "cache (each new message still sends); field adds a permanent BooleanField to the model (run makemigrations), only for "
        "messages that are once per object by nature.",
    ),
    unsafe_fixes: bool = UNSAFE_FIXES,
    task: Optional[List[str]] = typer.Option(None, "--task", help="Only findings in this task (its full name or function name); repeat for several."),
    min_risk: Optional[Risk] = typer.Option(None, "--min-risk", help="Only findings at or above this risk: critical, high, moderate or low."),
    interactive: bool = typer.Option(False, "--interactive", "-i", help="Show each fix with its hunk and ask: yes, no, all safe (the rest of the safe ones, no more questions), quit."),
    no_cache: bool = NO_CACHE,
    jobs: int = JOBS,
) -> None:
    """Rewrite risky code with one or more rules.

    Every finding is safe (proven at that site: plain `apply` writes it), unsafe (a guess with named
    evidence: written only with --unsafe-fixes) or manual (never written: the message says what a
    person must decide). Plain `apply` writes the files (atomically, each one verified to compile) and
    prints what it rewrote, what it skipped and why. `--dry-run` shows the diff instead; `--check`
    only says whether a rule would change something.
    Exit codes: 0 done (or, with --dry-run / --check, nothing would change), 1 something would change,
    a file could not be rewritten, or a fix could not be applied, 2 usage error.
    """
    paths = paths or [Path(".")]
    missing = [p for p in paths if not p.exists()]
    if missing:
        output.error(f"no such file or folder: {', '.join(map(str, missing))}")
        raise typer.Exit(2)
    from idem_fix.codemods.engine.rules import Options
    from idem_fix.codemods.engine.runner import run_rules, steps_for
    from idem_fix.codemods.engine.writes import annotated_diff, write_atomic

    config = _config(paths)
    rules = _select_rules(rule or config.select)
    options = Options(
        scope=scope.value,
        flag_mode=flag_mode.value if flag_mode else None,
        flag_store=flag_store.value if flag_store else None,
        unsafe_fixes=unsafe_fixes,
        tasks=tuple(task or ()),
        min_risk=min_risk.value if min_risk else None,
    )
    if interactive and (dry_run or check):
        output.error("--interactive asks before writing: it does not go with --dry-run or --check")
        raise typer.Exit(2)

    def run_once(options):
        with output.progress("Reading files") as on_progress, output.stages() as on_stage:
            return run_rules(
                paths, steps_for(rules, unsafe_fixes), options, config, use_cache=not no_cache, jobs=jobs,
                on_progress=on_progress, on_stage=on_stage,
            )

    run = run_once(options)
    if interactive:
        chosen = _ask_each(run)
        offered = {(f.rule, f.path, f.line) for f in run.findings if f.written_by(unsafe_fixes)}
        if chosen != offered:
            options.sites = frozenset(chosen)
            run = run_once(options)
    changes = run.changes
    for problem in run.errors:
        output.warn(str(problem))
    from .formatting import restyle_changes  # subprocess and friends: not for an audit's start-up

    restyle_changes([c for c in changes if c.changed], paths[0] if paths[0].is_dir() else paths[0].parent, Path.cwd())
    failed = [c for c in changes if c.error]
    changed = [c for c in changes if c.changed]
    if dry_run:
        for change in changed:
            output.diff(annotated_diff(change, _notes(run, change)))
    elif not check:
        try:
            for change in changed:
                try:
                    write_atomic(change.path, change.new)
                except OSError as error:
                    change.error = f"cannot write: {error.strerror or error}"
                    failed.append(change)
        except KeyboardInterrupt:
            written = sum(1 for c in changed if c.path.read_bytes() == c.new)
            output.error(
                f"interrupted: {written} of {len(changed)} files written; every file is either as it was or "
                "fully rewritten. Run the same command again to finish."
            )
            raise typer.Exit(130)
    changed = [c for c in changed if not c.error]
    unapplied = output.summary(run, changed, failed, written=not (dry_run or check))
    if failed or unapplied or ((check or dry_run) and changed):
        raise typer.Exit(1)


def _ask_each(run) -> set[tuple[str, str, int]]:
    """The fixes a person accepts: each one's note and hunk, then a question."""
    import click  # typer's own copy has no Choice: only for a run that asks

    from idem_fix.codemods.engine.writes import changes_line, hunks

    chosen: set[tuple[str, str, int]] = set()
    every_safe = False
    for change in (c for c in run.changes if c.changed):
        patches = hunks(change) if not change.created else [(1, 1, change.diff())]
        for finding, note in _written(run, change):
            key = (finding.rule, finding.path, finding.line)
            safe = str(finding.applicability) == "safe"
            if every_safe:
                if safe:
                    chosen.add(key)
                continue
            shown = [patch for start, length, patch in patches if changes_line(start, length, finding.line)]
            output.diff(f"# {' '.join(note.split())}\n" + "".join(shown or [change.diff()]))
            answer = typer.prompt("Apply this fix? [y]es, [n]o, [a]ll safe ones, [q]uit", type=click.Choice(["y", "n", "a", "q"]), show_choices=False)
            if answer == "q":
                return chosen
            every_safe = answer == "a"
            if answer == "y" or (every_safe and safe):
                chosen.add(key)
    return chosen


def _written(run, change) -> list[tuple[object, str]]:
    """(finding, what it is: file:line, rule, applicability, task, message and why) for each finding the
    change writes."""
    applied = {plan for plans in change.applied.values() for plan in plans}
    written = []
    for finding in run.findings:
        if finding.plan is not None and finding.plan in applied:
            task = f" in task {finding.task}" if finding.task else ""
            written.append((finding, f"{finding.path}:{finding.line}: [{finding.rule}] ({finding.applicability}){task}: "
                                     f"{finding.message} ({finding.reason})"))
    return written


def _notes(run, change) -> list[tuple[int, str]]:
    return [(finding.line, note) for finding, note in _written(run, change)]


class Format(str, enum.Enum):
    table = "table"
    markdown = "markdown"
    json = "json"
    sarif = "sarif"
    github = "github"


FORMAT_OF_SUFFIX = {".json": Format.json, ".sarif": Format.sarif, ".md": Format.markdown, ".markdown": Format.markdown}

NO_TASKS = (
    "no Celery task found in {files} files. idem-fix looks for @shared_task, @<app>.task, @task and "
    "@periodic_task (also under another name: imported as, assigned to, or applied by a project decorator), "
    "Task subclasses and app.task(fn) registrations. If the project makes its tasks another way, name the "
    'decorator in pyproject.toml: [tool.idem-fix] task-decorators = ["pkg.module.decorator"]'
)


@app.command()
def audit(
    paths: Optional[List[Path]] = typer.Argument(None, help="Files or folders to audit (default: the current folder)."),
    format: Optional[Format] = typer.Option(
        None, "--format", "--output-format", "-f",
        help="table (terminal), markdown, json, sarif (GitHub code scanning) or github (annotations in a GitHub "
        "Actions run). Default: from the --output suffix (.md, .json, .sarif), else table.",
    ),
    output_file: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to this file instead of stdout."),
    fail_on: Optional[Risk] = typer.Option(None, "--fail-on", help="Exit 1 when a finding at or above this risk exists (for CI); with --baseline, only a finding not in it."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="A JSON file of accepted findings: --fail-on counts only the others."),
    update_baseline: bool = typer.Option(False, "--update-baseline", help="Write every finding of this audit to the --baseline file (accept them all), then exit 0."),
    no_cache: bool = NO_CACHE,
    jobs: int = JOBS,
) -> None:
    """Report every Celery task, what a redelivery would repeat, how risky that is, and which rule fixes it.

    Risk: critical (money, credentials), high (external systems), moderate (notifications, duplicate
    rows, fan-out), low (safe to repeat). Also checks the Celery settings that decide whether tasks run
    twice (acks_late, reject_on_worker_lost, prefetch, Redis visibility_timeout).
    Exit codes: 0 done, 1 --fail-on matched (the findings are named), 2 usage or internal error.
    """
    paths = paths or [Path(".")]
    if update_baseline and baseline is None:
        output.error("--update-baseline needs --baseline FILE: the file to write")
        raise typer.Exit(2)
    from . import baseline as baselines  # json: only for a run that gates

    accepted: set[str] = set()
    if baseline is not None and not update_baseline:
        try:
            accepted = baselines.read(baseline)
        except baselines.BaselineError as error:
            output.error(str(error))
            raise typer.Exit(2)
    missing = [p for p in paths if not p.exists()]
    if missing:
        output.error(f"no such file or folder: {', '.join(map(str, missing))}")
        raise typer.Exit(2)
    config = _config(paths)
    format = format or FORMAT_OF_SUFFIX.get(output_file.suffix.lower() if output_file else "", Format.table)
    renderers = {
        Format.json: report_formats.to_json, Format.sarif: report_formats.to_sarif, Format.markdown: report_formats.to_markdown,
        Format.github: report_formats.to_github,
    }
    render = renderers.get(format)  # its text is cached with the report; the table depends on the terminal
    with output.progress("Reading files") as on_progress:
        report, problems = run_audit(
            paths, config, __version__, use_cache=not no_cache, jobs=jobs, on_progress=on_progress, render=render
        )
    for problem in problems:
        output.warn(str(problem))
    for path, line, code in report.unused_suppressions:
        where = f"{path}: `# idem-fix: ignore-file[{code}]`" if line == 0 else f"{path}:{line}: `# idem-fix: ignore[{code}]`"
        output.warn(f"{where} silences nothing here (no {code if code != '*' else 'finding'} on that line): remove it")
    if not report.task_count:
        output.warn(NO_TASKS.format(files=report.files))
    if render is None:
        if output_file:
            with open(output_file, "w", encoding="utf-8") as stream:
                report_formats.to_table(report, output.file_console(stream))
        else:
            report_formats.to_table(report, output.stdout)
    else:
        text = report.renderings[render.__name__]
        if output_file:
            output_file.write_text(text, encoding="utf-8")
        else:
            output.write(text)
    if update_baseline:
        count = baselines.write(baseline, report)
        output.say(f"Wrote {count} finding{'s' * (count != 1)} to {baseline}: audits with --baseline {baseline} accept them.")
        return
    if fail_on is not None:
        new = baselines.failing(report, fail_on.value, accepted)
        if new:
            what = f"{len(new)} {'new ' if baseline else ''}finding{'s' * (len(new) != 1)} at or above {fail_on.value}"
            output.error(f"--fail-on {fail_on.value}: {what}" + (f" (not in {baseline})" if baseline else ""))
            for finding, tasks in new[:20]:
                shown = ", ".join(tasks[:3]) + (f" and {len(tasks) - 3} more" if len(tasks) > 3 else "")
                output.say(f"  {finding.path}:{finding.line}: [{finding.code}] {finding.risk}: {finding.message} (task {shown})")
            if len(new) > 20:
                output.say(f"  ... and {len(new) - 20} more")
            raise typer.Exit(1)


@app.command("rules")
def list_rules() -> None:
    """List the rules: name, fix safety and what each one does."""
    from idem_fix.codemods.engine.rules import all_rules

    output.rules_table(all_rules().values())


@app.command()
def explain(name: str = typer.Argument(..., help="A rule name, as `idem-fix rules` lists them.")) -> None:
    """Explain one rule: what it does, why, an example, and how safe its fix is."""
    from idem_fix.codemods.engine.rules import all_rules

    known = all_rules()
    if name not in known:
        output.error(f"unknown rule: {name}. Rules: {', '.join(known)}")
        raise typer.Exit(2)
    output.explain(known[name])


from . import pr  # noqa: E402  (`idem-fix pr`, in cli/pr.py)
app.command("pr")(pr.pr)


def _prose(doc: str) -> str:
    """A docstring as help text: typer keeps the single line breaks of every paragraph after the first,
    which break a narrow terminal's lines in the middle; a paragraph becomes one line for it to wrap."""
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in inspect.cleandoc(doc).split("\n\n"))


for _command in app.registered_commands:
    _command.help = _prose(_command.callback.__doc__ or "")


def _terminate(signum, frame) -> None:
    """SIGTERM stops a run the way Ctrl-C does, so that no temporary file is left behind."""
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    # A run builds millions of small objects (syntax trees, summaries) and frees them without cycles;
    # the cyclic collector would rescan all of them again and again (measured: ast-parsing a
    # 1,000-file tree took 15x longer with it on). One command is a short-lived process.
    gc.disable()
    app(prog_name="idem-fix")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
