"""Accepted findings for CI: `idem-fix audit --baseline FILE --update-baseline` writes every finding of
an audit to FILE; later audits with `--baseline FILE` gate `--fail-on` on the findings not in it. A
finding is matched by its fingerprint (its code, module and the text of its line), so edits elsewhere in
a file keep it matched, and a changed line counts as new."""

from __future__ import annotations

import json
from pathlib import Path

FORMAT = 1


class BaselineError(Exception):
    pass


def write(path: Path, report) -> int:
    """Every finding above low risk, once per site, sorted; returns how many."""
    sites = {}
    for task in report.tasks:
        for finding in task.findings:
            if finding.risk != "low":
                entry = sites.setdefault(finding.fingerprint, {
                    "fingerprint": finding.fingerprint, "code": finding.code, "path": finding.path,
                    "line": finding.line, "risk": finding.risk, "message": finding.message, "tasks": [],
                })
                entry["tasks"].append(task.name)
    entries = sorted(sites.values(), key=lambda e: (e["path"], e["line"], e["code"]))
    for entry in entries:
        entry["tasks"] = sorted(set(entry["tasks"]))
    text = json.dumps({"idem-fix-baseline": FORMAT, "findings": entries}, indent=1, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return len(entries)


def read(path: Path) -> set[str]:
    """The fingerprints a baseline accepts."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such baseline; write one with `idem-fix audit --baseline {path} --update-baseline`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BaselineError(f"{path}: cannot read the baseline: {error}") from error
    if not isinstance(data, dict) or data.get("idem-fix-baseline") != FORMAT or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path}: not an idem-fix baseline (format {FORMAT}); write it again with --update-baseline")
    return {entry.get("fingerprint") for entry in data["findings"] if isinstance(entry, dict)}


def failing(report, floor: str, accepted: set[str]) -> list[tuple[object, list[str]]]:
    """(finding, its tasks) at or above `floor` and not accepted, once per site, in the report's order."""
    from idem_fix.codemods.engine.report import RISKS

    found: dict[str, tuple[object, list[str]]] = {}
    for task in report.tasks:
        for finding in task.findings:
            if RISKS.index(finding.risk) >= RISKS.index(floor) and finding.fingerprint not in accepted:
                found.setdefault(finding.fingerprint, (finding, []))[1].append(task.name)
    return list(found.values())
