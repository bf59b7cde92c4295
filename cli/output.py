"""What the commands print: diffs on stdout, everything addressed to the person on stderr."""

from __future__ import annotations

import contextlib
import functools
import sys

from idem_fix.codemods.engine.files import display_path
from idem_fix.codemods.engine.levels import Status


@functools.cache
def _console(on_stderr: bool):
    """rich's consoles are made (and rich.console imported) on the first output: a warm audit that
    writes its report to a file prints nothing and should not pay for them."""
    from rich.console import Console

    return Console(stderr=on_stderr, highlight=False, soft_wrap=True)


def __getattr__(name: str):
    if name in ("stdout", "stderr"):
        return _console(name == "stderr")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def escape(text: str) -> str:
    """rich's markup escape, loaded with the first message (see `_console`)."""
    from rich.markup import escape as escape_markup

    return escape_markup(text)


def say(message: str) -> None:
    _console(True).print(escape(message))


def error(message: str) -> None:
    _console(True).print(f"[bold red]error:[/] {escape(message)}")


def warn(message: str) -> None:
    _console(True).print(f"[yellow]warning:[/] {escape(message)}")


def diff(text: str) -> None:
    from rich.text import Text

    stdout = _console(False)
    if not stdout.is_terminal:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    for line in text.splitlines():
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        stdout.print(Text(line, style=style))


def summary(run, changed, failed, written: bool) -> int:
    """Print a line per finding and the totals; return how many fixes that should have been written were not."""
    stderr = _console(True)
    applied = {plan for c in changed for plans in c.applied.values() for plan in plans}
    unsafe_fixes = run.options.unsafe_fixes
    due = [f for f in run.findings if f.written_by(unsafe_fixes)]
    held = [f for f in run.findings if f.status is Status.FIX and not f.written_by(unsafe_fixes)]
    for finding in run.findings:
        label = escape(f"[{finding.rule}]")
        if finding in due and finding.plan in applied:
            text = f"[green]{'rewrote' if written else 'would rewrite'} ({finding.applicability})[/] {label}"
        elif finding in due:
            text = f"[red]not rewritten, the file could not be changed ({finding.applicability})[/] {label}"
        elif finding in held:
            text = f"[yellow]unsafe, not written without --unsafe-fixes[/] {label}"
        elif finding.status is Status.MANUAL:
            text = f"[yellow]needs a person[/] {label}"
        else:
            text = f"[dim]left alone[/] {label}"
        stderr.print(f"{escape(finding.path)}:{finding.line}: {text} {escape(_told(finding))}")
    for change in changed:
        if change.created:
            stderr.print(f"{escape(display_path(change.path))}: {'added' if written else 'would add'} this new file")
    for change in failed:
        error(f"{change.path}: {change.error}")
    rewritten = sum(1 for f in due if f.plan in applied)
    manual = sum(1 for f in run.findings if f.status is Status.MANUAL)
    safe = sum(1 for f in run.findings if f.status is Status.OK)
    verb = "Rewrote" if written else "Would rewrite"
    stderr.print(
        f"{verb} {rewritten} site{'s' * (rewritten != 1)} in {len(changed)} file{'s' * (len(changed) != 1)}"
        + (f"; {len(held)} unsafe fix{'es' * (len(held) != 1)} not written (--unsafe-fixes writes them)" if held else "")
        + f"; {manual} need a person, {safe} left alone (already safe)"
        + (f"; {len(due) - rewritten} could not be applied" if len(due) > rewritten else "")
        + (f"; {len(run.errors)} file{'s' * (len(run.errors) != 1)} could not be read" if run.errors else "")
        + "."
    )
    return max(0, len(due) - rewritten)


def _told(finding) -> str:
    """A fix says what it writes, then its proof or evidence; a site left as it is says why after a colon."""
    if not finding.reason:
        return finding.message
    if finding.status is Status.FIX:
        return f"{finding.message} ({finding.reason})"
    return f"{finding.message}: {finding.reason}"


def rules_table(rules) -> None:
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("rule")
    table.add_column("fixes can be")
    table.add_column("what it does")
    for rule in rules:
        table.add_row(rule.name, " / ".join(str(a) for a in rule.applicabilities), rule.summary)
    _console(False).print(table)
    _console(False).print(
        "\nsafe: proven at the site, written by `apply`; unsafe: a guess with named evidence, written with "
        "`--unsafe-fixes`; manual: reported with what a person must decide. `idem-fix explain RULE` for one rule."
    )


def explain(rule) -> None:
    """The rule's README, as Markdown on a terminal and as is elsewhere."""
    stdout = _console(False)
    if not stdout.is_terminal:
        write(rule.doc.text)
        return
    from rich.markdown import Markdown

    stdout.print(Markdown(rule.doc.text))


def write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def file_console(stream):
    from rich.console import Console

    return Console(file=stream, highlight=False, soft_wrap=True, width=160, color_system=None)


@contextlib.contextmanager
def progress(description: str):
    """A progress bar on stderr while files are read, from the first file read on (a warm audit reads
    none); nothing when stderr is not a terminal."""
    started = []  # (bar, task) once the first file is read

    def advance(done: int, total: int) -> None:
        if not started:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            stderr = _console(True)
            if not stderr.is_terminal:
                started.append(None)
                return
            bar = Progress(TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                           console=stderr, transient=True)
            bar.start()
            started.append((bar, bar.add_task(description, total=None)))
        if started[0]:
            bar, task = started[0]
            bar.update(task, completed=done, total=total)
            if done >= total:  # gone before the analysis forks its workers, with its thread and locks
                bar.stop()
                started[0] = None

    try:
        yield advance
    finally:
        if started and started[0]:
            started[0][0].stop()


@contextlib.contextmanager
def stages():
    """A status line on stderr saying what a long run is doing (a rule looking for sites, rewriting files);
    nothing when stderr is not a terminal. Redrawn only when it changes: no thread, so the workers a run
    forks inherit no lock."""
    stderr = _console(True)
    if not stderr.is_terminal:
        yield lambda text: None
        return
    from rich.errors import LiveError
    from rich.live import Live
    from rich.text import Text

    shown: list = []  # the Live display, from the first stage on (the file-reading bar has gone by then)

    def show(text: str) -> None:
        if not shown:
            live = Live(Text(""), console=stderr, transient=True, auto_refresh=False)
            try:
                live.start()
            except LiveError:  # another display is up: say nothing rather than fail the run
                live = None
            shown.append(live)
        if shown[0] is not None:
            shown[0].update(Text(f"… {text}", style="dim"), refresh=True)

    try:
        yield show
    finally:
        if shown and shown[0] is not None:
            shown[0].stop()
