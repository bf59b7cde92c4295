"""Each task's report: what its reachable code does that a redelivery repeats, how risky that is,
and which rule fixes it.

Risk levels follow how teams sort tasks by hand before turning on acks_late:
  critical  money records or movement; credential and auth changes
  high      state in external systems (bookings, access codes on locks, mail redirections)
  moderate  notifications; duplicate non-financial rows; fan-out to other tasks
  low       deletes, updates, get_or_create / update_or_create, reads
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import functools
import hashlib
import fnmatch
import re
from pathlib import Path

from . import facts
from .celery_checks import check_config
from .config import Config
from .effect_findings import effect_finding
from .files import Files
from .levels import Status
from .names import dotted
from .project import FunctionKey, Project, Task
from .report import NOT_FOLLOWED, RISKS, AuditFinding, Report, TaskReport, highest
from .rules import Finding, Options, Rule, all_rules, detect_each
from .runner import errors_in_targets, index
from .source import one_line, suppression_reasons
from .summarize import PASSED_IN
from .suppressions import unused_suppressions

# The rules whose finding that a site is already safe speaks for an effect of that kind.
RULES_OF_KIND = {"db_create": ("create-to-get-or-create",), "db_save": ("create-to-get-or-create",),
                 "external": ("guard-external-call",), "send": ("sent-flag",), "credential": ("sent-flag",)}
NAMED_LIKE_AN_EFFECT = frozenset({"send", "credential", "external", "external_read"})


def fresh_report(paths: list, files: Files, config: Config, version: str, use_cache: bool, jobs: int, on_progress):
    """(report, problems in the files the user named), from an index of the project."""
    project, _ = index(paths, Options(), config, use_cache, jobs, on_progress, files=files)
    report = build_report(project, list(all_rules().values()), Options(), version, len(files.targets))
    return report, errors_in_targets(project)


def build_report(project: Project, rules: list[Rule], options: Options, version: str, files: int) -> Report:
    rule_findings = [finding for found in detect_each(rules, project, options) for finding in found]
    by_site: dict[tuple[str, int], list[Finding]] = {}
    for finding in rule_findings:
        by_site.setdefault((finding.module, finding.line), []).append(finding)
    lines_by_module: dict[str, list[int]] = {}
    for module, line in by_site:
        lines_by_module.setdefault(module, []).append(line)
    tasks = [_task_report(project, task, by_site, lines_by_module) for task in project.tasks]
    _fingerprint(project, [f for t in tasks for f in t.findings])
    config = check_config(project)
    project.loader.cache.save()  # with what the rules and checks made the index load
    tasks.sort(key=lambda t: (-RISKS.index(t.risk), t.path, t.line))
    unused, accepted = [], []
    if any(summary.suppressions for summary in list(project.modules.values())):  # rare: most projects have none
        analysed = sorted({key.module for task in project.tasks for key in project.reachable_from(task.key)})
        unused = [(u.path, u.line, u.code) for u in unused_suppressions(project, analysed)]
        accepted = _accepted_risks(project, analysed, {(path, line) for path, line, _ in unused})
    return Report(version, tasks, config, files, list(project.errors), unused, accepted, datetime.date.today().isoformat(), _commit(project))


def _accepted_risks(project: Project, modules: list[str], unused: set[tuple[str, int]]) -> list[tuple[str, int, str, str]]:
    """Each suppression comment that silences something, with its codes and the reason written after it."""
    found = []
    for module in modules:
        summary = project.module(module)
        if summary is None or not summary.suppressions:
            continue
        source = project.source(module)
        reasons = suppression_reasons(source.text) if source is not None else {}
        path = project.display(module)
        for line, codes in sorted(summary.suppressions.items()):
            if (path, line) not in unused:
                found.append((path, line, ", ".join(sorted(codes)), reasons.get(line, "")))
    return found


def _commit(project: Project) -> str:
    """The short commit of the git repository holding the audited files, read from .git (nothing runs)."""
    roots = getattr(project, "roots", None) or [project.source_of(m).path.parent for m in project.module_names()[:1]]
    for start in roots:
        for folder in [Path(start).absolute(), *Path(start).absolute().parents]:
            head = folder / ".git" / "HEAD"
            if head.is_file():
                return _resolve_head(folder / ".git", head.read_text(encoding="utf-8", errors="replace").strip())
    return ""


def _resolve_head(git: Path, head: str) -> str:
    if not head.startswith("ref: "):
        return head[:10]
    ref = head[5:].strip()
    loose = git / ref
    if loose.is_file():
        return loose.read_text(encoding="utf-8", errors="replace").strip()[:10]
    packed = git / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0][:10]
    return ""


def _task_report(project: Project, task: Task, by_site: dict, lines_by_module: dict[str, list[int]]) -> TaskReport:
    findings: list[AuditFinding] = []
    claimed: set[tuple[str, int]] = set()
    for key in project.reachable_from(task.key):
        function = project.function(key)
        if function is None:
            continue
        for effect in function.effects:
            if _runs_project_code(project, key, effect):
                continue
            finding = effect_finding(project, task.key, key, function, effect)
            if finding is None or _accepted(project, key.module, effect.statement, effect.end_line, finding.code):
                continue
            site = (key.module, effect.line)
            unsure = (effect.kind == "db_save" and effect.family != "increment") or effect.kind == "db_create" or (
                effect.kind == "db_update" and effect.family in {"volatile", "stamped"})  # low, yet a repeat writes again
            if (finding.risk != "low" or unsure) and project.guards.branch_not_taken(task.key, key, effect):
                claimed.add(site)  # on a branch this task's calls never take: neither the effect nor a rule's finding there
                continue
            settled = site in by_site and all(f.status is Status.OK for f in by_site[site]) and any(
                f.rule in RULES_OF_KIND.get(effect.kind, ()) for f in by_site[site])  # the rule of that effect found it safe
            if (finding.risk != "low" or unsure) and not settled and _skipped_on_a_repeat(project, task, key, effect, finding):
                claimed.add(site)
                findings.append(finding)
                continue
            if site in by_site:
                claimed.add(site)
                rule_findings, notes = _for_this_task(project, task, key, by_site[site])
                findings.extend(_merged(finding, rule_findings, effect.kind) if rule_findings else [finding])
                findings.extend(notes)
            else:
                findings.append(finding)
        if function.unfollowed:
            findings.extend(_not_followed(project, key, function))
        for line in lines_by_module.get(key.module, ()):
            if function.line <= line <= function.end_line and (key.module, line) not in claimed:
                claimed.add((key.module, line))
                rule_findings, notes = _for_this_task(project, task, key, by_site[(key.module, line)])
                findings.extend(_from_rule(f) for f in rule_findings if f.status is not Status.OK)
                findings.extend(notes)
    findings = _dedupe(findings)
    findings.sort(key=lambda f: (-RISKS.index(f.risk), f.path, f.line))
    return TaskReport(
        name=task.name,
        qualname=task.key.qualname,
        module=task.key.module,
        path=task.path,
        line=task.line,
        risk=highest(f.risk for f in findings),
        findings=findings,
        not_followed=sum(1 for f in findings if f.kind == NOT_FOLLOWED),
        acks_late=task.options.get("acks_late") if isinstance(task.options.get("acks_late"), bool) else None,
    )


GUARDED_WHAT = {"send": "sends a message", "fanout": "enqueues another task", "external": "calls an external system",
                "credential": "changes credentials", "db_create": "creates rows", "db_save": "writes a row",
                "db_update": "updates rows"}


def _skipped_on_a_repeat(project: Project, task: Task, key: FunctionKey, effect: facts.Effect, finding: AuditFinding) -> bool:
    """Whether a check on the way to the effect already makes a redelivery skip it (engine/guards.py); the
    finding then says so, at low risk."""
    if effect.kind not in GUARDED_WHAT:
        return False
    model = ""
    if effect.kind == "db_create":
        owner = effect.receiver.removesuffix(".objects") if effect.receiver.endswith(".objects") else effect.receiver
        model = owner.rsplit(".", 1)[-1]
    reason = project.guards.of(task.key, key, effect, model)
    if not reason:
        return False
    finding.risk = "low"
    finding.message = f"{one_line(effect.call, 80)}() {GUARDED_WHAT[effect.kind]}, and a redelivery does not do it twice: {reason}"
    finding.advice = ""
    return True


def _runs_project_code(project: Project, key: FunctionKey, effect: facts.Effect) -> bool:
    """A call of one of the project's own functions that is named like a send or an API call
    (`notify_admins()`, `send_report_email()`): what it does is reported where its body does it."""
    named = effect.kind in NAMED_LIKE_AN_EFFECT or (effect.kind == "db_create" and "." in effect.call and ".objects." not in f".{effect.call}")
    return named and not effect.family and bool(project.call_targets(key, effect.call))


def _fingerprint(project: Project, findings: list[AuditFinding]) -> None:
    """A finding's fingerprint: its code, module and the text of its line, and which of the identical lines
    of that module it is, so lines added or removed elsewhere do not change it (a baseline keeps matching)."""
    modules = {project.display(name): name for name in list(project.modules)}
    sites = sorted({(f.code, f.path, f.line) for f in findings})
    seen: dict[tuple[str, str, str], int] = {}
    prints: dict[tuple[str, str, int], str] = {}
    for code, path, line in sites:
        source = project.source(modules[path]) if path in modules else None
        text = " ".join(source.lines[line - 1].split()) if source is not None and 0 < line <= len(source.lines) else ""
        nth = seen[(code, path, text)] = seen.get((code, path, text), -1) + 1
        where = modules.get(path, path)  # the module, not the path: the same from any working directory
        prints[(code, path, line)] = hashlib.sha256(f"{code}\0{where}\0{text}\0{nth}".encode()).hexdigest()[:20]
    for finding in findings:
        finding.fingerprint = prints[(finding.code, finding.path, finding.line)]


def _accepted(project: Project, module: str, first: int, last: int, code: str) -> bool:
    """`# idem-fix: ignore[code]` (or the name of a rule, which accepts the site as it is) on the statement,
    alone on the line above it, or `ignore-file[...]` in the module."""
    summary = project.module(module)
    marks = summary.suppressions if summary is not None else {}
    if not marks:
        return False
    source = project.source(module)
    codes = {code, *(name for names in marks.values() for name in names if name in _rule_names())}
    return source is not None and any(source.suppressed_lines(first, last, c) for c in codes)


@functools.lru_cache(maxsize=1)
def _rule_names() -> frozenset[str]:
    return frozenset(all_rules())


def _not_followed(project: Project, key: FunctionKey, function: facts.Function) -> list[AuditFinding]:
    """Calls whose target the analysis cannot tell, unless the project says they are harmless
    (`harmless-calls` in [tool.idem-fix], globs on the callee as written)."""
    harmless = project.config.section.get("harmless-calls", [])
    path = project.display(key.module)
    canvases = {(line, callee): producer for line, callee, why in function.unfollowed if why.endswith(" returned")
                for producer in [_canvas_producer(project, key, line, callee)] if producer}
    started = [
        AuditFinding(
            "manual", path, line, "moderate",
            f"{callee}() starts the Celery canvas {producer}() builds (chain, group or signature): a redelivery enqueues "
            f"it again in {function.qualname}()",
            "manual", "", "fanout",
            "start it from a task whose repeat finds it already started (a state the row records first), or give its "
            "tasks their own guards",
        )
        for (line, callee), producer in canvases.items()
    ]
    return started + [
        AuditFinding(
            "manual", path, line, "low",
            f"{callee}() is not followed in {function.qualname}(): {why}, so what it runs is not analysed",
            "manual", "", NOT_FOLLOWED,
            "read what it runs; if that is safe to repeat, mark the line `# idem-fix: ignore[not-followed]` or add "
            f'"{callee}" to harmless-calls in [tool.idem-fix]',
        )
        for line, callee, why in function.unfollowed
        if (line, callee) not in canvases
        and not any(fnmatch.fnmatchcase(callee, pattern) for pattern in harmless if isinstance(pattern, str))
        and not (why.endswith(PASSED_IN) and _every_caller_names_it(project, key, callee))
    ]


CANVAS = re.compile(r"\b(Signature|chain|group|chord|canvas)\b")


def _canvas_producer(project: Project, key: FunctionKey, line: int, callee: str) -> str:
    """For `runner()` with `runner = self._get_pipeline(...)`: the producer as written when every function it
    may be says it returns a Celery canvas (`-> Signature`, or a return of `chain(...)`, `group(...)`, `t.s(...)`);
    "" otherwise."""
    view = project.view(key)
    call = next((c for c in view.parents if isinstance(c, ast.Call) and c.lineno == line and isinstance(c.func, ast.Name)
                 and c.func.id == callee), None) if view is not None else None
    value = getattr(view.binding_before(callee, call), "value", None) if call is not None else None
    targets = project.graph.targets(view, value) if isinstance(value, ast.Call) else []
    if not targets or not all(_returns_a_canvas(project.view(t)) for t in targets):
        return ""
    return one_line(view.segment(value.func), 60)


def _returns_a_canvas(producer) -> bool:
    if producer is None:
        return False
    annotation = producer.node.returns
    if annotation is not None:
        return bool(CANVAS.search(producer.segment(annotation)))
    returns = [n.value for n in producer.walk_scope(producer.node) if isinstance(n, ast.Return) and n.value is not None]
    return bool(returns) and all(
        isinstance(r, ast.Call) and ((dotted(r.func) or "").rsplit(".", 1)[-1] in {"chain", "group", "chord", "signature", "s", "si"})
        for r in returns
    )


def _every_caller_names_it(project: Project, key: FunctionKey, parameter: str) -> bool:
    """Every call of the function passes a named callable (`logger.info`, `print`, a function) or a lambda
    for the parameter: calling it is then what the caller would do itself, which the analysis reads."""
    passed = project.graph.arguments_for(key, parameter)
    if not passed:
        return False
    for caller_view, value in passed:
        name = dotted(value) if not isinstance(value, ast.Lambda) else "lambda"
        if not name or name.split(".")[0] in caller_view.parameters(with_self=False):
            return False
    return True


def _dedupe(findings: list[AuditFinding]) -> list[AuditFinding]:
    seen = set()
    unique = []
    for finding in findings:
        key = (finding.path, finding.line, finding.kind, finding.message)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _for_this_task(project: Project, task: Task, key: FunctionKey, rule_findings: list[Finding]) -> tuple[list[Finding], list[AuditFinding]]:
    """The rule findings that hold for this task, and notes for those that do not: a transaction
    atomic-multi-create would add where every call on this task's way already runs in one."""
    kept, notes = [], []
    for rule_finding in rule_findings:
        why_not = ""
        if rule_finding.rule == "atomic-multi-create" and rule_finding.status is not Status.OK:
            held = project.guards.held_in_transaction(task.key, key)
            why_not = f"its writes already commit together ({held})" if held else _writes_not_paired_here(project, task, key, rule_finding)
        if not why_not:
            kept.append(rule_finding)
            continue
        note = _from_rule(rule_finding)
        note.risk, note.applicability, note.advice = "low", "", ""
        note.message = f"{rule_finding.message}: not for this task, {why_not}"
        notes.append(note)
    return kept, notes


def _writes_not_paired_here(project: Project, task: Task, key: FunctionKey, rule_finding: Finding) -> str:
    """Why the writes a transaction would pair are not a pair on this task's way ("" when they are): the
    others sit on branches its calls never take, and what is left is one write, or no create."""
    skipped = [(effect, project.guards.branch_not_taken(task.key, key, effect)) for effect in rule_finding.covers]
    taken = [effect for effect, why in skipped if not why]
    if len(taken) == len(skipped) or (len(taken) >= 2 and any(e.kind in {"db_create", "db_save"} for e in taken)):
        return ""
    why = next(why for _, why in skipped if why)
    if not taken:
        return f"none of them runs on its way ({why})"
    return f"only the write at line {taken[0].line} runs on its way (the others: {why})"


def _merged(finding: AuditFinding, rule_findings: list[Finding], kind: str) -> list[AuditFinding]:
    """The effect once per rule that leaves it to fix; a rule finding the site already safe lowers it only
    when that rule is the one about this kind of effect (`atomic-multi-create` leaving a function alone says
    nothing of whether its create repeats) and no other rule there says it still repeats."""
    open_findings = [f for f in rule_findings if f.status is not Status.OK]
    if open_findings:
        merged = []
        for rule_finding in open_findings:
            copy = dataclasses.replace(finding)
            _merge(copy, rule_finding)
            merged.append(copy)
        return merged
    owner = next((f for f in rule_findings if f.rule in RULES_OF_KIND.get(kind, ())), None)
    if owner is None:  # another rule's note on the site (left alone, and why) stays beside the effect
        notes = [_from_rule(f) for f in rule_findings]
        for note, rule_finding in zip(notes, rule_findings):
            note.message += f": {rule_finding.reason}" if rule_finding.reason else ""
        return [finding, *notes]
    _merge(finding, owner)
    return [finding]


def _merge(finding: AuditFinding, rule_finding: Finding) -> None:
    """A rule's finding at the same line says how (or whether) it is fixed; the risk stays the audit's
    (one scale for every effect) unless the rule found the site already safe."""
    finding.rule = rule_finding.rule
    finding.applicability = str(rule_finding.applicability or "")
    finding.reason = rule_finding.reason
    if rule_finding.status is Status.OK:
        finding.risk = "low"
        finding.message = rule_finding.message + (f": {rule_finding.reason}" if rule_finding.reason else "")
        finding.advice = ""
        return
    finding.advice = _advice(rule_finding)


def _advice(rule_finding: Finding) -> str:
    how = {"safe": f"`idem-fix apply --rule {rule_finding.rule}`", "unsafe": f"`idem-fix apply --rule {rule_finding.rule} --unsafe-fixes` (review it)"}
    command = how.get(str(rule_finding.applicability))
    return f"{command}: {rule_finding.message}" if command else rule_finding.message


def _from_rule(rule_finding: Finding) -> AuditFinding:
    return AuditFinding(
        rule=rule_finding.rule,
        path=rule_finding.path,
        line=rule_finding.line,
        risk=rule_finding.risk,
        message=rule_finding.message,
        applicability=str(rule_finding.applicability or ""),
        reason=rule_finding.reason,
        kind=rule_finding.rule,
        advice=_advice(rule_finding),
    )
