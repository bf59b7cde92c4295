"""The audit report in four shapes: a terminal table, a Markdown document, JSON and SARIF 2.1.0."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from idem_fix.codemods.engine.report import NOT_FOLLOWED, RISKS, Report

if TYPE_CHECKING:  # rich loads for the table only
    from rich.console import Console

RISK_STYLE = {"critical": "bold red", "high": "red", "moderate": "yellow", "low": "green"}
STATUS_STYLE = {"risk": "bold red", "warning": "yellow", "info": "cyan", "ok": "green"}
SARIF_LEVEL = {"critical": "error", "high": "error", "moderate": "warning", "low": "note"}


def to_json(report: Report) -> str:
    """One task (and one setting) per line: readable, easy to grep and diff, and written by json's C
    encoder (an indented dump of a 7,000-task report takes longer than reading it from the cache)."""
    tasks = [
        {
            "name": task.name,
            "qualname": task.qualname,
            "path": task.path,
            "line": task.line,
            "risk": task.risk,
            "fully_analysed": task.fully_analysed,
            "acks_late": task.acks_late,
            "findings": [
                {
                    "rule": f.rule, "code": f.code, "path": f.path, "line": f.line, "risk": f.risk, "message": f.message,
                    "applicability": f.applicability or None, "reason": f.reason, "fixable": f.fixable,
                    "fingerprint": f.fingerprint,
                }
                for f in task.findings
            ],
        }
        for task in report.tasks
    ]
    config = [
        {"setting": c.setting, "value": c.value, "path": c.path, "line": c.line, "status": c.status, "message": c.message}
        for c in report.config
    ]
    return (
        f'{{"version": {json.dumps(report.version)},\n'
        f' "tasks": {_one_per_line(tasks)},\n'
        f' "config": {_one_per_line(config)},\n'
        f' "unused_suppressions": {json.dumps([{"path": p, "line": n, "code": c} for p, n, c in report.unused_suppressions])},\n'
        f' "summary": {json.dumps(_summary(report))}}}\n'
    )


def _one_per_line(items: list[dict]) -> str:
    if not items:
        return "[]"
    return "[\n  " + ",\n  ".join(json.dumps(item) for item in items) + "\n ]"


def _summary(report: Report) -> dict:
    return {
        "tasks": len(report.tasks), "files": report.files, **{r: report.count(r) for r in reversed(RISKS)},
        "not_fully_analysed": len(report.partly_analysed()),
    }


def fix_text(finding) -> str:
    """How the finding gets fixed, in one line: the command for safe and unsafe fixes, else what a person decides."""
    if finding.applicability == "safe":
        return f"fix (safe): idem-fix apply --rule {finding.rule}"
    if finding.applicability == "unsafe":
        return f"fix (unsafe, review it): idem-fix apply --rule {finding.rule} --unsafe-fixes; {finding.reason}"
    if finding.rule != "manual":
        return f"manual ({finding.rule}): {finding.reason or finding.advice}"
    return f"manual: {finding.advice}" if finding.advice else "manual"


def to_table(report: Report, console: Console) -> None:
    """Tasks by risk, each with the lines that make it risky; then the Celery settings; then counts."""
    from rich.markup import escape

    console.print("[bold]Celery tasks: what a redelivery would repeat[/]")
    first_task: dict[object, str] = {}  # a site's fingerprint -> the first task shown with it
    for task in report.tasks:
        partly = "" if task.fully_analysed else "  [yellow]not fully analysed[/]"
        partly += "" if task.acks_late is None else f"  [dim]acks_late={task.acks_late} (set by the task)[/]"
        console.print(
            f"[{RISK_STYLE[task.risk]}]{task.risk:<9}[/][bold]{escape(task.name)}[/]  [dim]{escape(task.path)}:{task.line}[/]{partly}"
        )
        for finding in (f for f in task.findings if f.risk != "low" or f.kind == NOT_FOLLOWED):
            earlier = first_task.setdefault(finding.fingerprint or id(finding), task.name)
            where = f"    [{RISK_STYLE[finding.risk]}]{finding.risk}[/] {escape(finding.path)}:{finding.line}: "
            if earlier != task.name:  # a site shared by several tasks is told once
                console.print(where + f"[dim]the same {escape(finding.code)} site as in {escape(earlier)}, above[/]")
                continue
            console.print(where + f"{escape(finding.message)} [dim]({escape(fix_text(finding))})[/]")
    if report.config:
        console.print("\n[bold]Celery configuration[/]")
        for check in report.config:
            value = escape(str(check.value)) if check.value is not None else "not set"
            where = f"{escape(check.path)}:{check.line}" if check.path else "default"
            console.print(
                f"[{STATUS_STYLE[check.status]}]{check.status:<9}[/]{check.setting} = {value} [dim]({where})[/]: "
                f"{escape(check.message)}"
            )
    summary = _summary(report)
    console.print(
        f"\n{summary['tasks']} tasks in {summary['files']} files: "
        + ", ".join(f"[{RISK_STYLE[r]}]{summary[r]} {r}[/]" for r in reversed(RISKS))
        + (f", [yellow]{summary['not_fully_analysed']} not fully analysed[/]" if summary["not_fully_analysed"] else "")
    )


def to_markdown(report: Report) -> str:
    summary = _summary(report)
    when = f" on {report.date}" if report.date else ""
    commit = f" at commit `{report.commit}`" if report.commit else ""
    out = [
        "# Celery task idempotency audit",
        "",
        f"idem-fix {report.version} read {summary['files']} files{commit}{when} and found {summary['tasks']} Celery "
        "tasks. With `task_acks_late` a task whose worker dies is delivered again; this report lists what each "
        "task would repeat, how much that matters, and how to fix it.",
        "",
        *_priority_list(report),
        "## Summary",
        "",
        "| risk | tasks | meaning |",
        "|---|---|---|",
        f"| critical | {summary['critical']} | money records or movement, credentials |",
        f"| high | {summary['high']} | state in external systems |",
        f"| moderate | {summary['moderate']} | notifications, duplicate rows, fan-out |",
        f"| low | {summary['low']} | safe to run twice |",
        f"| not fully analysed | {summary['not_fully_analysed']} | low so far, but calls something the analysis cannot follow |",
        "",
        *_by_applicability(report),
    ]
    if report.config:
        out += ["## Celery configuration", "", "| setting | value | where | status | |", "|---|---|---|---|---|"]
        for check in report.config:
            where = f"`{check.path}:{check.line}`" if check.path else "default"
            value = f"`{_cell(str(check.value))}`" if check.value is not None else "not set"
            out.append(f"| `{check.setting}` | {value} | {where} | {check.status} | {_cell(check.message)} |")
        out.append("")
    risky = [t for t in report.tasks if t.risk != "low"]
    first_task: dict[object, str] = {}  # a site's fingerprint -> the first task it is told under
    for risk in ("critical", "high", "moderate"):
        tasks = [t for t in risky if t.risk == risk]
        if not tasks:
            continue
        out += [f"## {risk.capitalize()}", ""]
        for task in tasks:
            out += [f"### `{task.name}`", "", f"Task at `{task.path}:{task.line}`. Risk: **{task.risk}**.", ""]
            for finding in (f for f in task.findings if f.risk != "low"):
                earlier = first_task.setdefault(finding.fingerprint or id(finding), task.name)
                if earlier != task.name:  # a site shared by several tasks is told once
                    out += [f"- **{finding.risk}** `{finding.path}:{finding.line}`: the same `{finding.code}` site as in `{earlier}` above", ""]
                    continue
                out += [f"- **{finding.risk}** {_link(finding.path, finding.line)}: {finding.message}"]
                code = _source_line(finding.path, finding.line)
                if code:
                    out += ["", "  ```python", f"  {code}", "  ```"]
                out += ["", f"  Fix: {_cell(fix_text(finding))}", ""]
    partly = report.partly_analysed()
    if partly:
        out += ["## Not fully analysed", "", "Low risk as far as the analysis sees, but these calls run code it cannot follow:", ""]
        for task in partly:
            out += [f"- `{task.name}` (`{task.path}:{task.line}`)"]
            out += [f"  - `{f.path}:{f.line}`: {_cell(f.message)}" for f in task.findings if f.kind == NOT_FOLLOWED]
        out.append("")
    safe = [t for t in report.tasks if t.risk == "low" and t.fully_analysed]
    if safe:
        out += ["## Safe to run twice", ""]
        out += [f"- `{t.name}` (`{t.path}:{t.line}`)" for t in safe]
        out.append("")
    if report.accepted:
        out += ["## Accepted risks", "", "Sites the code says are safe as they are (`# idem-fix: ignore[...]`):", "",
                "| where | codes | why |", "|---|---|---|"]
        for path, line, codes, reason in report.accepted:
            where = f"`{path}` (whole file)" if line == 0 else _link(path, line)
            out.append(f"| {where} | {_cell(codes)} | {_cell(reason) or '(no reason given)'} |")
        out.append("")
    return "\n".join(out)


def _priority_list(report: Report) -> list[str]:
    """The risky tasks, worst first, each with what fixes it: the list a lead acts on."""
    risky = [t for t in report.tasks if t.risk != "low"]
    if not risky:
        return []
    out = ["## Priority list", ""]
    for number, task in enumerate(risky, 1):
        rules = sorted({f.rule for f in task.findings if f.fixable})
        manual = any(not f.fixable and f.risk != "low" for f in task.findings)  # unsafe fixes need a person too
        how = ", ".join(f"`{r}`" for r in rules) + (" and manual work" if manual and rules else "manual work" if manual else "")
        out.append(f"{number}. **{task.risk}** `{task.name}`: {how}")
    return out + [""]


def _by_applicability(report: Report) -> list[str]:
    """Risky sites (once each) by what idem-fix can do about them."""
    sites: dict[object, str] = {}
    for task in report.tasks:
        for finding in task.findings:
            if finding.risk != "low":
                sites.setdefault(finding.fingerprint or id(finding), finding.applicability or "manual")
    counts = {kind: sum(1 for a in sites.values() if a == kind) for kind in ("safe", "unsafe", "manual")}
    return [
        "| risky sites | count | what to do |", "|---|---|---|",
        f"| safe | {counts['safe']} | `idem-fix apply` writes the proven fix |",
        f"| unsafe | {counts['unsafe']} | `idem-fix apply --unsafe-fixes` writes a best guess: review it |",
        f"| manual | {counts['manual']} | a person decides (each finding says what) |",
        "",
    ]


def _link(path: str, line: int) -> str:
    """`path:line` as a link to the line (GitHub's #L anchors) relative to where the report is read."""
    return f"[`{path}:{line}`]({Path(path).as_posix()}#L{line})"


def to_github(report: Report) -> str:
    """GitHub Actions workflow commands: an annotation on the line of each finding of moderate risk and
    above (once per site, naming its tasks) and of each risky setting."""
    sites: dict[tuple[str, int, str], tuple[object, list[str]]] = {}
    for task in report.tasks:
        for finding in task.findings:
            if finding.risk != "low":
                sites.setdefault((finding.path, finding.line, finding.code), (finding, []))[1].append(task.name)
    lines = []
    for (path, line, code), (finding, tasks) in sites.items():
        level = "error" if SARIF_LEVEL[finding.risk] == "error" else "warning"
        message = f"{finding.message} ({finding.risk}; task{'s' * (len(tasks) > 1)} {', '.join(tasks)})"
        lines.append(_annotation(level, path, line, f"idem-fix {code}", message))
    for check in report.config:
        if check.status in {"warning", "risk"} and check.path:
            level = "error" if check.status == "risk" else "warning"
            lines.append(_annotation(level, check.path, check.line, f"idem-fix {check.setting}", check.message))
    return "".join(line + "\n" for line in lines)


def _annotation(level: str, path: str, line: int, title: str, message: str) -> str:
    def escape(text: str, properties: bool = False) -> str:  # as GitHub's toolkit escapes command data
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if properties else text

    where = f"file={escape(Path(path).as_posix(), True)},line={max(line, 1)},title={escape(title, True)}"
    return f"::{level} {where}::{escape(message)}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _source_line(path: str, line: int) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            for number, text in enumerate(stream, 1):
                if number == line:
                    return text.strip()
    except OSError:
        return ""
    return ""


def to_sarif(report: Report) -> str:
    rules: dict[str, dict] = {}
    results = []
    seen = set()
    for task in report.tasks:
        for finding in task.findings:
            if finding.risk == "low":
                continue
            rule_id = finding.code
            key = (rule_id, finding.path, finding.line, finding.message)
            if key in seen:
                continue
            seen.add(key)
            if rule_id not in rules:
                rules[rule_id] = {
                    "id": rule_id,
                    "name": rule_id,
                    "shortDescription": {"text": _rule_text(finding)},
                    "help": _rule_help(finding),
                    "defaultConfiguration": {"level": SARIF_LEVEL[finding.risk]},
                }
            results.append(
                {
                    "ruleId": rule_id,
                    "ruleIndex": list(rules).index(rule_id),
                    "level": SARIF_LEVEL[finding.risk],
                    "message": {"text": f"{finding.message} (task {task.name}, risk {finding.risk})"},
                    "locations": [_location(finding.path, finding.line)],
                    "partialFingerprints": {"idemFixFinding/v1": finding.fingerprint},
                    "properties": {
                        "risk": finding.risk, "task": task.name, "fixable": finding.fixable,
                        "applicability": finding.applicability or None, "reason": finding.reason,
                    },
                }
            )
    for check in report.config:
        if check.status in {"warning", "risk"} and check.path:
            rule_id = "celery-config"
            rules.setdefault(rule_id, {
                "id": rule_id,
                "name": rule_id,
                "shortDescription": {"text": "Celery setting that decides whether tasks run twice"},
                "defaultConfiguration": {"level": "warning"},
            })
            results.append({
                "ruleId": rule_id,
                "ruleIndex": list(rules).index(rule_id),
                "level": "error" if check.status == "risk" else "warning",
                "message": {"text": f"{check.setting}: {check.message}"},
                "locations": [_location(check.path, check.line)],
            })
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "idem-fix",
                        "version": report.version,
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _rule_text(finding) -> str:
    if finding.rule == "manual":
        return f"Side effect a redelivered Celery task repeats ({finding.code}); no rule rewrites it"
    return f"Side effect a redelivered Celery task repeats; rule {finding.rule}"


def _rule_help(finding) -> dict:
    """The rule's documentation (its README), or for a finding no rule covers, how to fix or accept it."""
    if finding.rule != "manual":
        from idem_fix.codemods.engine.rules import all_rules

        rule = all_rules().get(finding.rule)
        if rule is not None:
            doc = rule.doc
            return {"text": doc.sections.get("What it does", rule.summary), "markdown": doc.text}
    text = (f"A side effect of kind {finding.code} that a redelivered task repeats. Fix it by hand (the finding "
            f"says how), or accept it with `# idem-fix: ignore[{finding.code}] -- reason` on its line.")
    return {"text": text, "markdown": text}


def _location(path: str, line: int) -> dict:
    uri = Path(path).as_posix() if not os.path.isabs(path) else Path(path).as_uri()
    return {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": max(line, 1)}}}
