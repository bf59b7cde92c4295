"""What the commands print: diffs on stdout, everything addressed to the person on stderr."""

from __future__ import annotations

import contextlib
import functools
import sys


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
    """Print a line per finding and the totals; return how many fixes could not be applied."""
    stderr = _console(True)
    applied = {(c.path, getattr(plan, "line", 0)) for c in changed for plans in c.applied.values() for plan in plans}
    fixes = [f for f in run.findings if f.status == "fix"]
    rewritten = sum(len(plans) for c in changed for plans in c.applied.values())
    for finding in run.findings:
        source = run.project.source_of(finding.module).path
        message = escape(finding.message)
        if finding.status == "fix" and (source, finding.line) in applied:
            text = f"[green]{'rewrote' if written else 'would rewrite'}[/] {message}"
        elif finding.status == "fix":
            text = f"[red]not rewritten, the file could not be changed:[/] {message}"
        elif finding.status == "manual":
            text = f"[yellow]{message}[/]"
        else:
            text = f"[dim]{message}[/]"
        stderr.print(f"{escape(finding.path)}:{finding.line}: {text}")
    for change in failed:
        error(f"{change.path}: {change.error}")
    manual = sum(1 for f in run.findings if f.status == "manual")
    safe = sum(1 for f in run.findings if f.status == "ok")
    verb = "Rewrote" if written else "Would rewrite"
    stderr.print(
        f"{verb} {rewritten} site{'s' * (rewritten != 1)} in {len(changed)} file{'s' * (len(changed) != 1)}; "
        f"{manual} skipped (need a person), {safe} left alone (already safe)"
        + (f"; {len(fixes) - rewritten} could not be applied" if len(fixes) > rewritten else "")
        + (f"; {len(run.errors)} file{'s' * (len(run.errors) != 1)} could not be read" if run.errors else "")
        + "."
    )
    return max(0, len(fixes) - rewritten)


def rules_table(rules) -> None:
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("rule")
    table.add_column("fix safety")
    table.add_column("what it does")
    for rule in rules:
        table.add_row(rule.name, rule.fix_safety, rule.summary)
    _console(False).print(table)


def explain(rule) -> None:
    doc = rule.doc
    stdout = _console(False)
    stdout.print(f"[bold]{rule.name}[/]  (fix safety: {rule.fix_safety})\n")
    for title, text in (("What it does", doc.what), ("Why", doc.why)):
        stdout.print(f"[bold]{title}[/]\n{escape(text)}\n")
    stdout.print(f"[bold]Example[/]\n    {escape(doc.example)}\n")
    stdout.print(f"[bold]Use instead[/]\n    {escape(doc.use_instead)}\n")
    stdout.print(f"[bold]Fix safety[/]\n{escape(doc.fix_safety)}")


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
