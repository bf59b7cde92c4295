"""Which runs of writes get `with transaction.atomic():`, and how sure that is.

A transaction makes a run of writes all-or-nothing, so a worker that dies between them leaves none.
That alone does not make a redelivery safe: a crash after the commit still repeats the whole run. It is
proven safe only when the run carries its own guard: a state checked before it (`if order.invoiced:
return`) that the run itself sets, or a claim (`if not M.objects.filter(..., done=False).update(done=True):
return`) that commits with it; and when everything in it, followed through calls, `save()` overrides and
signal handlers, is a write to the default database.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..engine.fresh_rows import fresh_relations
from ..engine.levels import Applicability, Risk
from ..engine.orm import LOG_ROWS
from ..engine.project import Project
from ..engine.rules import Finding, Options, functions_in_scope, money_risk
from ..engine.view import EXITS, FUNCTIONS, LOOPS, FunctionView, position
from .runs import Planner, Run, Write, sub_blocks, writes_of
from .scope import atomic_name_in_scope, bound_names

NAME = "atomic-multi-create"
# What a rollback cannot take back, or should not wait for.
OUTSIDE = {
    "send": "sends a message", "external": "calls an external system", "external_read": "calls an external system",
    "fanout": "enqueues a task (it may run before the commit: use transaction.on_commit)", "storage": "writes a file",
    "cache": "writes the cache",
}
TRIES = tuple(getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name))
DB_ERRORS = frozenset(
    {"IntegrityError", "DatabaseError", "OperationalError", "DataError", "InternalError", "ProgrammingError",
     "NotSupportedError", "Error", "Exception", "BaseException"}
)


@dataclass(frozen=True)
class Plan:
    line: int  # first statement of the run, as libcst counts (the finding's line too)
    column: int
    end_line: int  # first line of the run's last statement
    avoid: tuple[str, ...] = ()  # names bound in the function (and enclosing ones): the callee must not use them
    local: str = ""  # an atomic callee the function already imports itself ("transaction.atomic")


def detect(project: Project, options: Options) -> list[Finding]:
    section = project.config.section.get(NAME, {})
    whole_loops = isinstance(section, dict) and section.get("loops") == "whole"
    findings = []
    for key, function, reach in functions_in_scope(project, options, _may_pair_writes):
        view = project.view(key)
        if view is None:
            continue
        for finding in _FunctionCheck(project, view, whole_loops).run():
            finding.task = reach.task.name if reach else ""
            findings.append(finding)
    return findings


def _may_pair_writes(function) -> bool:
    """Two writes, a create among them, in the index's effects: only such functions are parsed."""
    writes = [e for e in function.effects if e.kind in {"db_create", "db_upsert", "db_save", "db_update", "db_delete"}]
    return len(writes) >= 2 and any(e.kind in {"db_create", "db_save"} for e in writes)


class _FunctionCheck:
    def __init__(self, project: Project, view: FunctionView, whole_loops: bool):
        self.project, self.view, self.graph = project, view, project.graph
        self.planner = Planner(view, whole_loops)
        self.name = f"`{view.key.qualname}`"

    def finding(self, line: int, message: str, applicability, reason: str, risk: Risk = Risk.LOW, plan=None, writes=()) -> Finding:
        key = self.view.key
        return Finding(NAME, key.module, self.project.display(key.module), line, risk, message, applicability, reason, plan,
                       covers=tuple(w.effect for w in writes))

    def run(self) -> list[Finding]:
        view = self.view
        if view.suppressed(NAME):
            return [self.finding(view.function.line, f"{self.name} left alone", None, "suppressed by an `# idem-fix: ignore` comment")]
        if self.graph.decorated_atomic(view):
            return [self.finding(view.function.line, f"{self.name} left alone", None, "decorated with a transaction: its writes already commit together")]
        writes = writes_of(self.project, view)
        in_atomic = [w for w in writes if self.graph.atomic_around(view, w.node) is not None]
        by_scope: dict[ast.AST, list[Write]] = {}
        for write in writes:
            if write not in in_atomic and not _in_lambda_or_class(view, write.node):
                by_scope.setdefault(view.scope_of(write.node), []).append(write)
        findings = []
        held = self.graph.in_transaction(view.key) if by_scope else ""
        if held:
            line = min(w.effect.line for ws in by_scope.values() for w in ws)
            return [self.finding(line, f"{self.name} left alone", None, f"every caller already runs it in a transaction: {held}")]
        for scope, scoped in by_scope.items():
            if scope is not view.node and any(self.graph.is_atomic(view.key.module, view.segment(d.func if isinstance(d, ast.Call) else d)) for d in scope.decorator_list):
                in_atomic += scoped
                continue
            findings += [self.decide(scope, run, writes) for run in self.planner.runs(scope.body, scoped)]
        return findings or self._nothing_to_pair(writes, in_atomic, by_scope)

    def _nothing_to_pair(self, writes, in_atomic, by_scope) -> list[Finding]:
        creates = [w for w in writes if w.create]
        if len(writes) < 2 or not creates:
            return []
        first = min(writes, key=lambda w: w.effect.line)
        if in_atomic:
            inner = min(in_atomic, key=lambda w: w.effect.line)
            return [self.finding(inner.effect.line, f"{self.name} left alone", None, "its writes already run inside a transaction")]
        live = [w for ws in by_scope.values() for w in ws]
        if len(live) >= 2 and len(by_scope) == 1:
            lines = ", ".join(str(w.effect.line) for w in live)
            return [self.finding(first.effect.line, f"{self.name} left alone", None, f"its writes (lines {lines}) are on separate paths (if/else branches, a branch that returns): no run makes two of them")]
        return []

    # --- one run --------------------------------------------------------------------------------

    def decide(self, scope: ast.AST, run: Run, writes: list[Write]) -> Finding:
        view = self.view
        first, last = run.statements[0], run.statements[-1]
        ws = run.writes
        risk = Risk.HIGH if money_risk(*(w.effect.receiver for w in ws), view.key.qualname) else Risk.MODERATE
        labels = [w.label for w in ws]
        listed = f"{', '.join(labels[:-1])} and {labels[-1]}" if len(labels) > 1 else labels[0]
        what = f"{listed} commit one by one"
        logs = sorted({w.model for w in ws if w.create and LOG_ROWS.search(w.model)})
        if logs and all(w.create and w.model in logs for w in ws):
            return self.finding(first.lineno, f"{self.name} left alone", None,
                                f"its writes only record log rows ({', '.join(logs)}): a half-done run leaves part of a log, and a transaction changes nothing that matters")
        if any(view.suppressed(NAME, w.node) for w in ws):
            return self.finding(first.lineno, what, None, "suppressed by an `# idem-fix: ignore` comment")

        def manual(reason: str) -> Finding:
            return self.finding(first.lineno, f"{what}; not wrapped", Applicability.MANUAL, reason, risk, writes=ws)

        if isinstance(scope, ast.AsyncFunctionDef):
            return manual(f"`async def` {scope.name} cannot use transaction.atomic() (Django's transactions are synchronous); move these writes into a sync function decorated @transaction.atomic")
        if not view.starts_line(run.block[0]):
            return manual("the writes share a one-line block; put its statements on their own lines")
        alternative = next((n for s in run.statements for n in view.walk_scope(s) if isinstance(n, TRIES) and _alternatives(n, ws)), None)
        if alternative is not None:
            return self.finding(first.lineno, f"{self.name} left alone", None,
                                f"the writes are alternatives (the try at line {alternative.lineno}): the handler's write runs only when "
                                "the body's last statement, its write, failed, so no run commits both")
        problem = self._problem(run, writes, scope)
        if problem:
            return manual(problem)
        claim = self._claim_before(run)
        statements = run.block[run.first - 1 : run.last + 1] if claim else run.statements
        guarded = claim or self._guard_and_mark(run)
        span_end = last.end_lineno or last.lineno
        start = statements[0]
        span = f"lines {start.lineno}-{span_end}" if span_end != start.lineno else f"line {start.lineno}"
        message = f"{what} -> {span} wrapped in `with transaction.atomic():`" + "".join(f"; {n}" for n in self._notes(run))
        plan = Plan(start.lineno, view.column(start), last.lineno, bound_names(view, scope), atomic_name_in_scope(view, scope, start.lineno))
        if guarded:
            return self.finding(start.lineno, message, Applicability.SAFE, f"{guarded}, and everything in it writes to the database", risk, plan, ws)
        fresh = self._fresh_aggregate(run)
        if fresh:
            return manual(fresh)
        reason = (
            "narrows the crash window (a worker that dies between the writes leaves none of them), but a crash after the "
            "commit still repeats the block; it becomes safe once the block sets a state that is checked before it"
        )
        return self.finding(start.lineno, message, Applicability.UNSAFE, reason, risk, plan, ws)

    def _problem(self, run: Run, writes: list[Write], scope: ast.AST) -> str:
        """Why no transaction belongs around the run ("" when none)."""
        view = self.view
        nodes = [n for s in run.statements for n in view.walk_scope(s)]
        for node in nodes:
            if isinstance(node, (ast.Yield, ast.YieldFrom)):
                return f"the range yields (line {node.lineno}): a generator would hold the transaction open between items"
            if isinstance(node, TRIES):
                caught = [h for h in node.handlers if _catches_db_error(h)]
                if caught and any(id(s) in w.chain for w in run.writes for s in node.body):
                    return (
                        f"`except` at line {caught[0].lineno} catches a database error inside the range: in the transaction "
                        f"this fix would add, a caught error would leave it refusing every query until it ends; "
                        f"give the try body (line {node.lineno}) its own savepoint (`with transaction.atomic():`) first"
                    )
            exclusive = _exclusive_paths(node, run.writes)
            if exclusive:
                return exclusive
        undone = self._outside(nodes)
        if undone:
            return undone
        failing = self._handling_an_error(run)
        if failing:
            return failing
        other = next((w for w in run.writes if ".using(" in view.segment(w.node.func) or "db_manager(" in view.segment(w.node.func)), None)
        if other is not None:
            return f"{other.label} writes to another database than the one transaction.atomic() opens"
        earlier = _earlier_on_the_path(view, run.statements[0])
        before = [w for w in writes if w not in run.writes and w.chain & earlier
                  and self.graph.atomic_around(view, w.node) is None and not _in_lambda_or_class(view, w.node)]
        if before:
            return f"{before[-1].label} comes before the range and would stay outside it: a crash after it still repeats it"
        return ""

    def _handling_an_error(self, run: Run) -> str:
        """Writes made while an error is handled record it (an error row, a failed status): inside one
        transaction, a later error in the same block would take the record with it."""
        view = self.view
        handler = next((a for a in view.ancestors(run.statements[0]) if isinstance(a, ast.ExceptHandler)), None)
        if handler is not None:
            return f"the writes run in the `except` at line {handler.lineno}: they record a failure, and in one transaction a later error in the block would roll that record back"
        callers = self.graph.callers(view.key)
        sites = []
        for caller in callers:
            caller_view = self.project.view(caller)
            found = self.graph.call_sites(caller_view, view.key) if caller_view is not None else []
            if not found or not all(any(isinstance(a, ast.ExceptHandler) for a in caller_view.ancestors(c)) for c in found):
                return ""
            sites.append(f"{self.project.display(caller.module)}:{found[0].lineno}")
        if sites and view.key not in self.project.task_keys:
            return (
                f"{view.key.qualname} is only called while an error is handled ({', '.join(sites)}): its writes record a failure, "
                f"and in one transaction a later error in the block would roll that record back"
            )
        return ""

    def _outside(self, nodes: list[ast.AST]) -> str:
        """What in the range, followed through calls, save() overrides and signal handlers, a rollback cannot undo."""
        for call in (n for n in nodes if isinstance(n, ast.Call)):
            kind = self.graph.kind(self.view, call)
            own = self.view.effect(call)
            if kind in OUTSIDE and not (own is not None and own.deferred):
                return f"`{self.view.callee_text(call)}()` (line {call.lineno}) {OUTSIDE[kind]}, which a rollback cannot undo"
            for reached in self.graph.call_effects(self.view, call):
                if reached.kind in OUTSIDE and not reached.deferred:  # after the commit (on_commit): no rollback meets it
                    return (
                        f"`{self.view.callee_text(call)}()` (line {call.lineno}) can lead to {reached.where(self.project)}, which "
                        f"{OUTSIDE[reached.kind]} and a rollback cannot undo (whether it does on this path is not read)"
                    )
        return ""

    def _claim_before(self, run: Run) -> str:
        """`if not M.objects.filter(..., done=False).update(done=True): return` right before the run: with the
        claim inside the transaction, a crash before the commit releases it."""
        if run.first == 0:
            return ""
        statement = run.block[run.first - 1]
        if not (isinstance(statement, ast.If) and statement.body and isinstance(statement.body[-1], EXITS)):
            return ""
        claims = [c for c in ast.walk(statement.test) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "update"]
        if claims and isinstance(statement.test, ast.UnaryOp) and self.view.starts_line(statement):
            return f"the claim at line {statement.lineno} commits with the block, so a rerun returns once it did"
        return ""

    def _guard_and_mark(self, run: Run) -> str:
        """An early return on a state (line N) before the run, and the run sets that state: an attribute it
        saves, a field it updates, or a row it creates that the check's query looks for."""
        view = self.view
        first_write = view.statement_of(min(run.writes, key=lambda w: position(w.node)).node)
        for test, line in _guards_before(view, first_write):
            created = self._creates_what_the_check_finds(run, test)
            if created:
                return f"the block creates the {created} row that the check at line {line} looks for"
            read = {(n.value.id, n.attr) for n in ast.walk(test) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
            for node in (n for s in run.statements for n in view.walk_scope(s)):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and (target.value.id, target.attr) in read:
                            if any(isinstance(c, ast.Call) and view.segment(c.func) == f"{target.value.id}.save" for s in run.statements for c in ast.walk(s)):
                                return f"the block sets {target.value.id}.{target.attr}, which the check at line {line} reads before it"
                if isinstance(node, ast.keyword) and node.arg and any(node.arg == attr for _, attr in read):
                    call = view.parents.get(node)
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "update":
                        return f"the block sets {node.arg}, which the check at line {line} reads before it"
        return ""

    def _creates_what_the_check_finds(self, run: Run, test: ast.AST) -> str:
        module = self.view.key.module
        for query in (c for c in ast.walk(test) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "filter"):
            manager = query.func.value
            model = self.project.model_of(module, self.view.segment(manager.value)) if isinstance(manager, ast.Attribute) else None
            wanted = {k.arg for k in query.keywords if k.arg}
            for write in run.writes:
                if not write.create or "." not in write.effect.receiver:
                    continue
                made = self.project.model_of(module, write.effect.receiver.rsplit(".", 1)[0])
                given = {k.arg for k in write.node.keywords if k.arg}
                if model is not None and made is not None and made.name == model.name and made.module == model.module and wanted and wanted <= given:
                    return model.name
        return ""

    def _fresh_aggregate(self, run: Run) -> str:
        """A root row created and then children keyed on it (engine/aggregates.py), both in the run: a rerun
        builds a second whole aggregate, which no transaction prevents."""
        labels = {(w.effect.line, w.effect.column): w.label for w in run.writes}
        for aggregate in self.project.aggregates.of(self.view.key):
            root, child = labels.get((aggregate.root.line, aggregate.root.column)), labels.get((aggregate.child.line, aggregate.child.column))
            if root and child:
                return (
                    f"it builds a fresh aggregate on every run ({root}, then {child} keyed on it): a rerun "
                    f"after the commit builds a second one. Record the job's id (the task's request id, or its arguments) "
                    f"on the root row and look it up first, or resume or clean up a half-built one"
                )
        for write in (w for w in run.writes if w.effect.kind == "db_create"):
            hung = next(iter(fresh_relations(self.project, None, self.view.key, write.effect)), None)
            if hung is not None:
                field, _, why = hung
                return (
                    f"{write.label} hangs off {field}, which {why}: a rerun builds that row and these again, which no "
                    f"transaction prevents. Record the job's id on the row they hang off and look it up first"
                )
        return ""

    def _notes(self, run: Run) -> list[str]:
        notes = []
        if run.whole_loop:
            notes.append(f"the whole loop (line {run.statements[0].lineno}) commits at once, as loops = \"whole\" asks")
        elif any(isinstance(n, LOOPS) for s in run.statements for n in self.view.walk_scope(s) if any(id(n) in w.chain for w in run.writes)):
            notes.append("a loop inside the range commits together with the writes around it")
        if run.loop is not None:
            notes.append(f"per iteration: each pass of the loop at line {run.loop.lineno} commits on its own")
        return notes


def _blocks_around(view: FunctionView, statement: ast.stmt):
    """(owner, block, index) of the statement and of each statement around it, up to its function."""
    node = statement
    while node is not view.node:
        where = view.block_of(node)
        if where is None:
            return
        yield where
        if isinstance(where[0], FUNCTIONS):
            return
        node = where[0]


def _earlier_on_the_path(view: FunctionView, statement: ast.stmt) -> set[int]:
    """Ids of the statements that run before `statement` on every path to it: the earlier statements of
    its block and of each block around it (not the other branch of an `if`)."""
    return {id(s) for _, block, index in _blocks_around(view, statement) for s in block[:index]}


def _guards_before(view: FunctionView, statement: ast.stmt):
    """(test, line) of the early-return checks that run before `statement`, and of the `if` it sits in."""
    for owner, block, index in _blocks_around(view, statement):
        for earlier in block[:index]:
            if isinstance(earlier, ast.If) and earlier.body and isinstance(earlier.body[-1], EXITS):
                yield earlier.test, earlier.lineno
        if isinstance(owner, ast.If):
            yield owner.test, owner.lineno


def _exclusive_paths(node: ast.AST, writes: list[Write]) -> str:
    """Writes in two branches of which one pass takes only one: try body and handler, loop body and else."""
    if isinstance(node, (*TRIES, *LOOPS)):
        busy = [label for label, block in sub_blocks(node) if any(id(s) in w.chain for w in writes for s in block)]
        if ("body" in busy and ("handler" in busy or "orelse" in busy)) or busy.count("handler") > 1:
            return f"the writes are on paths one run does not take together (the {type(node).__name__.lower()} at line {node.lineno})"
    return ""


def _alternatives(node: ast.AST, writes: list[Write]) -> bool:
    """A try whose body ends in its only write and whose handlers write instead (`try: ...;
    ProcessedMail.objects.create(status="SUCCESS") except Exception: ProcessedMail.objects.create(status="FAILED")`):
    the handler runs after the body's write only if that write failed, so no pass commits both."""
    if not node.body or any(id(s) in w.chain for w in writes for s in node.orelse + node.finalbody):
        return False
    in_body = [w for w in writes if any(id(s) in w.chain for s in node.body)]
    in_handlers = [w for w in writes if any(id(s) in w.chain for h in node.handlers for s in h.body)]
    return (bool(in_body and in_handlers) and len(in_body) == 1 and id(node.body[-1]) in in_body[0].chain
            and len(in_body) + len(in_handlers) == len(writes))  # nothing else in the run pairs with either


def _catches_db_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any((ast.unparse(n) if not isinstance(n, ast.Name) else n.id).rsplit(".", 1)[-1] in DB_ERRORS for n in names)


def _in_lambda_or_class(view: FunctionView, node: ast.AST) -> bool:
    for ancestor in view.ancestors(node):
        if isinstance(ancestor, (ast.Lambda, ast.ClassDef)):
            return True
        if isinstance(ancestor, FUNCTIONS):
            return False
    return False

