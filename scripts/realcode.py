"""Real-code regression check: run every rule on public Django + Celery projects and hold each hunk it
writes against a person's verdict in tests/realcode/verdicts.toml (how to judge: tests/realcode/README.md).

Golden cases show that a rule does what we wrote; only real code shows that what we wrote is right.
Run by hand on trees fetched into /work/realcode (or --trees DIR, or $IDEM_FIX_REALCODE), never in CI:

    python scripts/realcode.py [--project NAME] [--rule NAME] [--markdown FILE] [--diffs DIR] [--todo FILE]

Exit 1 when a written hunk has no verdict, when a safe hunk is judged harmful or unsure, or when a tree
is at another commit than verdicts.toml names; 2 when verdicts.toml is malformed or a name is unknown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from idem_fix.codemods.engine.config import Config
from idem_fix.codemods.engine.rules import Options, Rule, all_rules
from idem_fix.codemods.engine.runner import run_rules, steps_for

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

VERDICTS = Path(__file__).resolve().parent.parent / "tests" / "realcode" / "verdicts.toml"
TREES = "/work/realcode"
APPLICABILITIES = ("safe", "unsafe")
WORDS = ("correct", "pointless", "harmful", "unsure")
NOT_SAFE = ("harmful", "unsure")  # a safe hunk judged so fails the check: unsure counts as not safe
MODES = {"plain": False, "unsafe-fixes": True}  # `apply` without and with --unsafe-fixes
COLUMNS = ("project", "rule", *APPLICABILITIES, *WORDS, "unjudged")


class Fatal(Exception):
    """A problem that stops the check before anything is judged, with the exit status it ends in."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Key:
    """What identifies a written hunk from one run to the next, and a verdict with it."""

    project: str
    path: str  # relative to the project's folder
    line: int
    rule: str
    applicability: str

    def __str__(self) -> str:
        return f"{self.project}: {self.path}:{self.line} [{self.rule}] ({self.applicability})"


@dataclass(frozen=True)
class Project:
    name: str  # also the folder's name under the trees
    repo: str
    commit: str
    path: str  # the sub-folder the rules run on


@dataclass(frozen=True)
class Hunk:
    key: Key
    message: str  # what the rule says it does there, for the reviewer
    reason: str


@dataclass(frozen=True)
class Verdict:
    key: Key
    verdict: str
    why: str


@dataclass
class Outcome:
    unjudged: list[Hunk]
    not_safe: list[Verdict]  # safe hunks judged harmful or unsure: the check fails
    harmful_unsafe: list[Verdict]  # a warning: --unsafe-fixes promises less
    stale: list[Verdict]  # their hunk is no longer written: a person removes them


def load(path: Path) -> tuple[dict[str, Project], list[Verdict]]:
    """The projects and verdicts of `path`, checked: a typo in a verdict would otherwise pass as stale."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise Fatal(f"{path}: {error}", 2) from error
    projects = {}
    for name, table in data.get("projects", {}).items():
        if not isinstance(table.get("repo"), str) or not isinstance(table.get("commit"), str):
            raise Fatal(f'{path}: [projects.{name}] needs repo = "owner/name" and commit = "<sha>"', 2)
        projects[name] = Project(name, table["repo"], table["commit"], table.get("path", "."))
    verdicts, problems = [], []
    for number, entry in enumerate(data.get("verdict", []), 1):
        problem = _problem(entry, projects)
        if problem:
            problems.append(f"{path}: verdict {number} ({entry.get('path')}:{entry.get('line')}): {problem}")
            continue
        key = Key(entry["project"], entry["path"], entry["line"], entry["rule"], entry["applicability"])
        verdicts.append(Verdict(key, entry["verdict"], entry["why"]))
    twice = [key for key, count in Counter(v.key for v in verdicts).items() if count > 1]
    problems += [f"{path}: two verdicts for {key}" for key in twice]
    if problems:
        raise Fatal("\n".join(problems), 2)
    return projects, verdicts


def _problem(entry: dict, projects: dict[str, Project]) -> str:
    """What is wrong with one [[verdict]] entry, or "" when nothing is."""
    missing = [k for k in ("project", "path", "line", "rule", "applicability", "verdict", "why") if k not in entry]
    if missing:
        return f"missing {', '.join(missing)}"
    if entry["project"] not in projects:
        return f"no [projects.{entry['project']}]"
    if not isinstance(entry["line"], int) or isinstance(entry["line"], bool):
        return "line is a number"
    if entry["applicability"] not in APPLICABILITIES:
        return f"applicability is one of {', '.join(APPLICABILITIES)}"
    if entry["verdict"] not in WORDS:
        return f"verdict is one of {', '.join(WORDS)}"
    if not isinstance(entry["why"], str) or not entry["why"].strip():
        return "why is one sentence a reviewer can check"
    return ""


def select(names: list[str], known: dict, what: str) -> list:
    """The named ones in the order given, or all of them; an unknown name lists the known ones."""
    unknown = [name for name in names if name not in known]
    if unknown:
        raise Fatal(f"unknown {what}: {', '.join(unknown)}. Known: {', '.join(known)}", 2)
    return [known[name] for name in dict.fromkeys(names)] if names else list(known.values())


def folders(projects: list[Project], trees: Path) -> list[tuple[Project, Path]]:
    """Each fetched project with its folder. A project not fetched is skipped with a warning; a tree at
    another commit fails the check, since the verdicts name lines of that commit."""
    found, wrong = [], []
    for project in projects:
        folder = trees / project.name
        if not folder.is_dir():
            warn(f"{project.name}: not fetched ({folder} is missing), skipped")
            continue
        marker = folder / ".commit"
        commit = marker.read_text(encoding="utf-8").strip() if marker.is_file() else "no commit (.commit is missing)"
        if commit != project.commit:
            wrong.append(f"{project.name}: {folder} is at {commit}, verdicts.toml names {project.commit}")
            continue
        found.append((project, folder))
    if wrong:
        raise Fatal("\n".join(wrong), 1)
    return found


def written_hunks(project: Project, folder: Path, rule: Rule, unsafe_fixes: bool, jobs: int) -> tuple[list[Hunk], str]:
    """The hunks `idem-fix apply --dry-run --rule <rule> [--unsafe-fixes]` writes in the project, and the
    diff. It runs from the project's folder, so that paths read as they do in the project."""
    previous = os.getcwd()
    os.chdir(folder)
    try:
        target = Path(project.path)
        options = Options(unsafe_fixes=unsafe_fixes)
        run = run_rules([target], steps_for([rule], unsafe_fixes), options, Config.find(target), use_cache=False, jobs=jobs)
        applied = {plan for c in run.changes for plans in c.applied.values() for plan in plans}
        hunks = [
            Hunk(Key(project.name, f.path, f.line, rule.name, str(f.applicability)), f.message, f.reason)
            for f in run.findings
            if f.written_by(unsafe_fixes) and f.plan in applied
        ]
        diff = "".join(change.diff() for change in run.changes if change.changed)  # paths relative to the folder
        for change in run.changes:
            if change.error:
                warn(f"{project.name}: {rule.name}: {change.path}: {change.error} (its hunks are not written)")
    finally:
        os.chdir(previous)
    return hunks, diff


def run_all(found: list[tuple[Project, Path]], rules: list[Rule], jobs: int) -> tuple[dict[Key, Hunk], dict[tuple[str, str, str], str]]:
    """Every written hunk, once (a safe hunk is written in both modes), and the diff of each project,
    rule and mode."""
    hunks: dict[Key, Hunk] = {}
    diffs: dict[tuple[str, str, str], str] = {}
    for project, folder in found:
        print(f"{project.name}: running {len(rules)} rule(s) on {folder / project.path}", file=sys.stderr)
        for rule in rules:
            for mode, unsafe_fixes in MODES.items():
                written, diff = written_hunks(project, folder, rule, unsafe_fixes, jobs)
                for hunk in written:
                    hunks.setdefault(hunk.key, hunk)
                diffs[(project.name, rule.name, mode)] = diff
    return hunks, diffs


def judge(hunks: dict[Key, Hunk], verdicts: list[Verdict], ran: list[tuple[str, str]]) -> Outcome:
    """Hold each hunk against its verdict. A verdict is stale only when its project and rule ran: one
    for a skipped project or an unselected rule says nothing."""
    by_key = {v.key: v for v in verdicts}
    judged = [by_key[key] for key in hunks if key in by_key]
    return Outcome(
        unjudged=[hunk for key, hunk in hunks.items() if key not in by_key],
        not_safe=[v for v in judged if v.key.applicability == "safe" and v.verdict in NOT_SAFE],
        harmful_unsafe=[v for v in judged if v.key.applicability == "unsafe" and v.verdict == "harmful"],
        stale=[v for v in verdicts if v.key not in hunks and (v.key.project, v.key.rule) in ran],
    )


def table(hunks: dict[Key, Hunk], verdicts: list[Verdict], ran: list[tuple[str, str]]) -> list[list]:
    """A row per project and rule that ran (zeros included: a rule writing nothing is a result too),
    then the totals."""
    by_key = {v.key: v for v in verdicts}
    rows = [[project, rule, *_counts([k for k in hunks if (k.project, k.rule) == (project, rule)], by_key)] for project, rule in ran]
    return rows + [["total", "", *_counts(list(hunks), by_key)]]


def _counts(keys: list[Key], by_key: dict[Key, Verdict]) -> list[int]:
    """Hunks written by applicability, then by verdict, in the order of COLUMNS."""
    written = Counter(key.applicability for key in keys)
    judged = Counter(by_key[key].verdict if key in by_key else "unjudged" for key in keys)
    return [*(written[a] for a in APPLICABILITIES), *(judged[w] for w in (*WORDS, "unjudged"))]


def rates(hunks: dict[Key, Hunk], verdicts: list[Verdict]) -> list[str]:
    """The two numbers that say whether a mode can be trusted: unsafe fixes that do harm, and safe fixes
    that are noise (among the judged ones)."""
    by_key = {v.key: v for v in verdicts}
    lines = []
    for word, applicability in (("harmful", "unsafe"), ("pointless", "safe")):
        judged = [by_key[k].verdict for k in hunks if k.applicability == applicability and k in by_key]
        share = f"{100 * judged.count(word) / len(judged):.0f}%" if judged else "n/a"
        lines.append(f"{word} among {applicability} hunks: {judged.count(word)} of {len(judged)} judged ({share})")
    return lines


def render_text(rows: list[list], totals: list[str]) -> str:
    """Aligned columns: names left, counts right."""
    cells = [list(COLUMNS), *[[str(cell) for cell in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in cells]
    return "\n".join(lines + [""] + totals) + "\n"


def render_markdown(rows: list[list], totals: list[str], found: list[tuple[Project, Path]]) -> str:
    """The same table for docs/real-code.md, with the commits it was made on."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---|---|" + "---:|" * (len(COLUMNS) - 2)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    commits = ", ".join(f"{p.name} ({p.repo}@{p.commit[:10]})" for p, _ in found)
    return "\n".join(lines + [""] + [f"- {line}" for line in totals] + ["", f"Projects: {commits}."]) + "\n"


def write_diffs(directory: Path, diffs: dict[tuple[str, str, str], str]) -> None:
    """<directory>/<project>/<rule>.<mode>.diff for each run that changed something, to read hunks in."""
    for (project, rule, mode), text in diffs.items():
        if text:
            path = directory / project / f"{rule}.{mode}.diff"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def write_todo(path: Path, unjudged: list[Hunk]) -> None:
    """Append a [[verdict]] stub per unjudged hunk, after a comment with what the rule claimed there, for
    a reviewer to fill in and move to verdicts.toml."""
    with path.open("a", encoding="utf-8") as out:
        for hunk in unjudged:
            key = hunk.key
            claim = " ".join(hunk.message.split()) + (f" [{' '.join(hunk.reason.split())}]" if hunk.reason else "")
            fields = {"project": key.project, "path": key.path, "line": key.line, "rule": key.rule,
                      "applicability": key.applicability, "verdict": "", "why": ""}
            out.write(f"\n# {claim}\n[[verdict]]\n")
            out.write("".join(f"{name} = {_toml(value)}\n" for name, value in fields.items()))


def _toml(value: str | int) -> str:
    """A TOML value: JSON's escapes are TOML's for strings (ensure_ascii off: no surrogate pairs)."""
    return str(value) if isinstance(value, int) else json.dumps(value, ensure_ascii=False)


def report(outcome: Outcome) -> int:
    """Print what a person must act on; the exit status: 1 when a hunk is unjudged or a safe one is not safe."""
    for hunk in outcome.unjudged:
        print(f"unjudged: {hunk.key}", file=sys.stderr)
    for verdict in outcome.not_safe:
        print(f"{verdict.verdict} safe hunk: {verdict.key}: {verdict.why}", file=sys.stderr)
    for verdict in outcome.harmful_unsafe:
        warn(f"harmful unsafe hunk: {verdict.key}: {verdict.why}")
    for verdict in outcome.stale:
        warn(f"stale verdict (its hunk is no longer written; remove it): {verdict.key}")
    if outcome.unjudged or outcome.not_safe:
        print(f"FAILED: {len(outcome.unjudged)} unjudged, {len(outcome.not_safe)} safe hunk(s) judged harmful or unsure", file=sys.stderr)
        return 1
    return 0


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trees", type=Path, default=Path(os.environ.get("IDEM_FIX_REALCODE", TREES)),
                        help=f"the fetched projects, a folder each (default: $IDEM_FIX_REALCODE, else {TREES})")
    parser.add_argument("--verdicts", type=Path, default=VERDICTS, help="the projects and verdicts (default: tests/realcode/verdicts.toml)")
    parser.add_argument("--project", action="append", default=[], metavar="NAME", help="only this project; repeat for several")
    parser.add_argument("--rule", action="append", default=[], metavar="NAME", help="only this rule; repeat for several")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the summary as Markdown (for docs/real-code.md)")
    parser.add_argument("--diffs", type=Path, metavar="DIR", help="write each project/rule/mode diff to DIR/<project>/<rule>.<mode>.diff")
    parser.add_argument("--todo", type=Path, metavar="FILE", help="append a [[verdict]] stub for each unjudged hunk to FILE")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N", help="processes per run (default: the number of cores)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        projects, verdicts = load(args.verdicts)
        rules = select(args.rule, all_rules(), "rule")
        found = folders(select(args.project, projects, "project"), args.trees)
    except Fatal as problem:
        print(f"error: {problem}", file=sys.stderr)
        return problem.status
    hunks, diffs = run_all(found, rules, args.jobs)
    ran = [(project.name, rule.name) for project, _ in found for rule in rules]
    rows, totals = table(hunks, verdicts, ran), rates(hunks, verdicts)
    print(render_text(rows, totals), end="")
    if args.markdown:
        args.markdown.write_text(render_markdown(rows, totals, found), encoding="utf-8")
    if args.diffs:
        write_diffs(args.diffs, diffs)
    outcome = judge(hunks, verdicts, ran)
    if args.todo and outcome.unjudged:
        write_todo(args.todo, outcome.unjudged)
    return report(outcome)


if __name__ == "__main__":
    sys.exit(main())
