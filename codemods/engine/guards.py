"""Why a redelivery skips a call: a check on the way to it that a first run already settles.

One reading, asked by the audit (for every effect it reports) and by the rules (sent-flag leaves a send
alone when it is already guarded). A guard is one of:
  - a flag, timestamp, status, cache key or sent-log row checked before a send (`if not user.welcomed_at`);
  - a stored value the function checks and also writes: claimed before the effect (`if mail.state == SENT:
    raise ...; mail.state = SENDING; mail.save()`) or recorded after it (`if result != gs.last: ...; gs.last =
    result`);
  - for a call that makes rows, a lookup of the same model first (`if Video.objects.filter(uuid=u).exists():
    continue`, `try: Video.objects.get(...); continue except DoesNotExist:`), or a delete of the same rows
    before it (delete-then-insert replaces), or rows made only for what a query did not find;
  - a row selected by a field the run then changes (`get(active=True)`, then `active = False`);
  - a branch on a row's state that a method of the row leaves, a save of only what the function clears;
and on the way from a task, a guard in any function whose call leads to the effect. What one function's
code says is read in `guard_checks.py` (checks, claims, marks) and `guard_rows.py` (lookups, replaced and
diffed rows); `guard_selection.py` and `guard_row_state.py` read what needs the project (callers, queryset
methods, a row's own methods); this module walks the way from each task and keeps the answers for the run.
"""

from __future__ import annotations

import ast
import re

from .fresh_rows import fresh_relations
from .guard_checks import before, check, claimed_by_update, is_update, sent_mark
from .guard_row_state import RowStateGuards
from .guard_rows import made_for_the_missing, rows_already_there
from .guard_selection import SelectionGuards, collected_then_deleted
from .guard_settled import FALSY, SettledBranches
from .names import dotted
from .project import FunctionKey, Project
from .view import FunctionView


class Guards(SelectionGuards, RowStateGuards, SettledBranches):
    """The guard of an effect on the way from a task: in the function holding it, or in every call of that
    function on the way. What a function's own code says is read once per call site, whatever task asks;
    only whether a stored value belongs to the same object a redelivery meets depends on the task."""

    def __init__(self, project: Project):
        self.project = project
        self._memo: dict[tuple, str] = {}
        self._checks: dict[tuple, tuple[str, ast.AST | None]] = {}
        self._rows: dict[tuple, str] = {}
        self._reach: dict[FunctionKey, frozenset[FunctionKey]] = {}
        self._selection_changes: dict[FunctionKey, bool] = {}
        self._queryset_methods: dict[str, dict[str, set[str]]] = {}

    def of(self, task: FunctionKey, key: FunctionKey, effect, model: str = "") -> str:
        """The guard of the effect for this task: in the function holding it, or around every call of that
        function on the task's way ("" when there is none)."""
        memo = (task, key, effect.line, effect.column)
        if memo not in self._memo:
            self._memo[memo] = self._of(task, key, effect, model)
        return self._memo[memo]

    def _of(self, task: FunctionKey, key: FunctionKey, effect, model: str) -> str:
        text = self._text(key)
        if effect.kind == "db_save" and effect.family == "new_row":
            model = "?"  # known once the view is read
        if effect.kind == "db_save" and not effect.family and "." in key.qualname:
            model = key.qualname.split(".")[0]  # `image.save()` in `ExerciseImage.from_json`: found by its class's lookups
        could, selects = _could_guard(text, effect.kind == "send", model), self._may_change_its_selection(key)
        deletes = ".delete(" in text
        if not (could or selects or deletes):
            return "" if key == task else self._callers(task, key, frozenset({key}), 3, model)
        view = self.project.view(key)
        call = _call_at(view, effect.line, effect.column) if view is not None else None
        if call is None:
            return ""
        if effect.kind == "db_save" and effect.family == "new_row":
            model = view.local_types.get(effect.receiver, "").rsplit(".", 1)[-1]
        # names holding rows this very run made: a lookup keyed on one finds nothing a first run made
        fresh = frozenset(held for _, held, _ in fresh_relations(self.project, task, key, effect)) if effect.kind == "db_create" else frozenset()
        found = (could and (self._checked(view, call, effect.kind == "send", task)
                            or made_for_the_missing(view, call, self._passed_on_the_way(task), fresh)
                            or self._branch_left_by_a_method(task, view, call) or self._only_what_it_clears(view, call)
                            or self._branch_settled(task, view, call))) or (
            deletes and collected_then_deleted(view, call)) or (
            selects and self._selected_then_changed(task, view, call))
        if not found and effect.kind == "send":
            found = self.marked_first(task, view, [call])
        if not found and model:
            memo = (task, key, effect.line, effect.column, model)
            if memo not in self._rows:
                self._rows[memo] = rows_already_there(view, call, model, self._passed_on_the_way(task), fresh)
            found = self._rows[memo]
        if found or key == task:
            return found
        return self._callers(task, key, frozenset({key}), 3, model)

    def _text(self, key: FunctionKey) -> str:
        """The function's own lines, to rule a guard out without parsing it."""
        return self.project.function_text(key)

    def marked_first(self, task: FunctionKey, view: FunctionView, calls: list[ast.Call]) -> str:
        """The rows are marked as sent before each send, in the same function (`....update(last_email_sent_at=now)`,
        then the send, often on commit), and the task selects by that mark somewhere on its way: a redelivery
        after the commit selects nothing to send again."""
        modules = {key.module for key in self.reached(task)}
        texts = [source.text for source in map(self.project.source, modules) if source is not None]
        reasons = []
        for call in calls:
            reason = next((
                f"it marks the rows as sent first ({field}, line {line}) and selects by that mark, so a repeat finds nothing to send"
                for field, line, mentions in self._marks_before(view, call)
                if sum(text.count(field) for text in texts) > mentions  # read elsewhere in the modules on the way
            ), "")
            if not reason:
                return ""
            reasons.append(reason)
        return "; ".join(dict.fromkeys(reasons))

    def _marks_before(self, view: FunctionView, call: ast.Call):
        """(field, line, times the marking itself spells the field) of each mark written before the call: in
        its own statements, or by a project function called there that claims rows by updating the field its
        filter selects on (`filter(..., email_scheduled=True).update(email_scheduled=False)`)."""
        for earlier, node in before(view, call):
            field = sent_mark(node)
            if field:
                yield field, node.lineno, 1
            elif isinstance(node, ast.Call):
                for target in self.project.graph.targets(view, node):
                    callee = self.project.view(target)
                    for update in (c for c in callee.calls() if callee is not None and is_update(c)):
                        claimed = claimed_by_update(update)
                        if claimed:
                            yield claimed, node.lineno, 2

    def branch_not_taken(self, task: FunctionKey, key: FunctionKey, effect) -> str:
        """Why the effect never runs on this task's way: it sits under `if mode == SyncMode.INSERT:` in a
        function every call of which, from the task, leaves `mode` at a default of another value (or passes
        one), or every call of that function on the way does (two callers up). "" when it may run."""
        if key == task:
            return ""
        view = self.project.view(key) if _tests_a_default(self._text(key)) else None
        call = _call_at(view, effect.line, effect.column) if view is not None else None
        found = self._not_taken_at(task, key, view, call) if call is not None else ""
        return found or self._no_call_taken(task, key, frozenset({key}), 2)

    def _no_call_taken(self, task: FunctionKey, key: FunctionKey, seen: frozenset, depth: int) -> str:
        """Every call of `key` on the task's way sits in a branch the task's calls never take."""
        callers = [c for c in self.project.graph.callers(key) if c in self.reached(task) and c not in seen]
        if not callers or depth == 0 or task in callers:
            return ""
        reasons = []
        for caller in callers:
            view, sites = self._call_sites(caller, key) if _tests_a_default(self._text(caller)) else (None, [])
            each = [self._not_taken_at(task, caller, view, site) for site in sites]
            here = f"{each[0]} in {caller.qualname}()" if each and all(each) else self._no_call_taken(task, caller, seen | {caller}, depth - 1)
            if not here:
                return ""
            reasons.append(here)
        return "; ".join(dict.fromkeys(reasons))

    def _not_taken_at(self, task: FunctionKey, key: FunctionKey, view: FunctionView, call: ast.Call) -> str:
        chain = [call, *view.ancestors(call)]
        for child, ancestor in zip(chain, chain[1:]):
            if not isinstance(ancestor, ast.If) or child not in ancestor.body:
                continue
            tested = _parameter_equals(view, ancestor.test)
            flag = _parameter_flag(view, ancestor.test) if tested is None else ""
            either = _parameter_flags_joined_by_or(view, ancestor.test)
            if either:
                passed = [self._values_passed(task, key, view, name) for name in either]
                if all(p and p <= FALSY for p in passed):
                    shown = "; ".join(f"{name}: {', '.join(sorted(p))}" for name, p in zip(either, passed))
                    return (f"it runs only when one of {', '.join(either)} is set (line {ancestor.lineno}), and this task's "
                            f"calls pass none ({shown})")
            if tested is None and not flag:
                continue
            parameter = tested[0] if tested else flag
            passed = self._values_passed(task, key, view, parameter)
            shown = ", ".join(sorted(passed))
            if tested and passed and tested[1] not in passed and all(_named_constant(v) for v in passed):
                return f"it runs only when {parameter} == {tested[1]} (line {ancestor.lineno}), and this task's calls pass {shown}"
            if flag and passed and passed <= FALSY:
                return f"it runs only when {parameter} is set (line {ancestor.lineno}), and this task's calls pass {shown}"
        return ""

    def _values_passed(self, task: FunctionKey, key: FunctionKey, view: FunctionView, parameter: str, depth: int = 2) -> set[str]:
        """The values the task's calls of `key` give `parameter` (its default where they leave it), as written,
        also through a caller that passes on a parameter of its own (`force=force`); empty when a call passes it
        in a way not read here."""
        positional = view.parameters(with_self=True)
        defaults = _defaults(view.node)
        offset = 1 if positional[:1] in (["self"], ["cls"]) else 0
        values: set[str] = set()
        callers = [c for c in self.project.graph.callers(key) if c in self.reached(task)]
        for caller in callers:
            caller_view, sites = self._call_sites(caller, key)
            for site in sites:
                if any(isinstance(a, ast.Starred) for a in site.args) or any(k.arg is None for k in site.keywords):
                    return set()
                given = next((k.value for k in site.keywords if k.arg == parameter), None)
                index = positional.index(parameter) - offset if parameter in positional else -1
                if given is None and 0 <= index < len(site.args):
                    given = site.args[index]
                text = caller_view.segment(given) if given is not None else defaults.get(parameter, "")
                if isinstance(given, ast.Name) and given.id in caller_view.parameters() and caller != task and depth:
                    passed_on = self._values_passed(task, caller, caller_view, given.id, depth - 1)
                    if not passed_on:
                        return set()
                    values |= passed_on
                    continue
                if not text:
                    return set()
                values.add(text)
        return values

    def held_in_transaction(self, task: FunctionKey, key: FunctionKey, seen: frozenset = frozenset()) -> str:
        """Where every call of `key` on this task's way already runs inside a transaction ("" when one does not):
        a fix that wraps its writes in one adds nothing for this task."""
        graph = self.project.graph
        view = self.project.view(key)
        if view is not None and graph.decorated_atomic(view):
            return f"{key.qualname} is decorated with a transaction"
        if key == task or key in seen or len(seen) > 3:
            return ""
        callers = [c for c in graph.callers(key) if c in self.reached(task) and c not in seen]
        reasons = []
        for caller in callers:
            caller_view, sites = self._call_sites(caller, key)
            if sites and all(graph.atomic_around(caller_view, site) is not None for site in sites):
                reasons.append(f"{caller.qualname}() calls it inside a transaction (line {sites[0].lineno})")
                continue
            outer = self.held_in_transaction(task, caller, seen | {key})
            if not outer:
                return ""
            reasons.append(outer)
        return "; ".join(dict.fromkeys(reasons))


    def _passed_on_the_way(self, task: FunctionKey):
        """What the calls on this task's way pass for a parameter (`Graph.arguments_for`, other callers left out)."""
        reach = self.reached(task)

        def passed(key: FunctionKey, name: str):
            given = self.project.graph.arguments_for(key, name)
            return None if given is None else [(v, value) for v, value in given if v.key in reach]
        return passed

    def reached(self, task: FunctionKey) -> frozenset[FunctionKey]:
        """The functions the task runs (memoised: every guard question asks it)."""
        if task not in self._reach:
            self._reach[task] = frozenset(self.project.reachable_from(task))
        return self._reach[task]

    def _checked(self, view: FunctionView, call: ast.Call, sends: bool, task: FunctionKey) -> str:
        """checked_before() of one call, when a redelivery meets the same object: a value stored on a row this
        run creates (`mail = QueuedMail(...)`) is no guard, each run has its own row."""
        memo = (view.key, call.lineno, call.col_offset, sends)
        if memo not in self._checks:
            self._checks[memo] = check(view, [call], frozenset(), sends)
        found, owner = self._checks[memo]
        if owner is None or not found:
            return found
        return found if self._same_object(view, owner, self.reached(task)) else ""

    def _same_object(self, view: FunctionView, owner: ast.AST, reach: frozenset) -> bool:
        provenance = self.project.provenance
        if isinstance(owner, ast.Name) and owner.id in view.parameters() and view.key not in self.project.task_keys:
            passed = [(v, value) for v, value in self.project.graph.arguments_for(view.key, owner.id) or () if v.key in reach]
            return bool(passed) and all(provenance.of(v, value).stable or self._read_by_a_getter(v, value) for v, value in passed)
        if isinstance(owner, ast.Name) and owner.id in view.row_types:
            return True  # a row a query read (`for job in Job.objects.running()`): a repeat that selects it sees what was stored
        if isinstance(owner, ast.Name):
            binding = view.binding_before(owner.id, view.node.body[-1]) if not provenance.of(view, owner).stable else None
            owner = getattr(binding, "value", owner)
        if isinstance(owner, ast.Call):  # GlobalSettings().settings: a settings store found by a fixed name
            return not owner.args and not owner.keywords and (dotted(owner.func) or "").rsplit(".", 1)[-1].endswith("Settings")
        return provenance.of(view, owner).stable


    def _call_sites(self, caller: FunctionKey, key: FunctionKey) -> tuple[FunctionView | None, list[ast.Call]]:
        """The caller's view and its calls of `key`, in source order (a reason names the first check first)."""
        view = self.project.view(caller)
        sites = self.project.graph.call_sites(view, key) if view is not None else []
        return view, sorted(sites, key=lambda c: (c.lineno, c.col_offset))

    def _callers(self, task: FunctionKey, key: FunctionKey, seen: frozenset, depth: int, model: str = "") -> str:
        """A guard around every call of `key` in the functions of the task that call it (for a call that makes
        `model` rows, also a lookup of that model before the call)."""
        reach = self.reached(task)
        callers = [c for c in self.project.graph.callers(key) if c in reach and c not in seen]
        if not callers or depth == 0:
            return ""
        reasons = []
        for caller in callers:
            if not (_could_guard(self._text(caller), False, model) or self._may_change_its_selection(caller)):
                if caller == task:
                    return ""
                here = self._callers(task, caller, seen | {caller}, depth - 1, model)
                if not here:
                    return ""
                reasons.append(here)
                continue
            view, sites = self._call_sites(caller, key)
            if not sites:
                return ""
            each = [
                self._checked(view, site, False, task) or self._selected_then_changed(task, view, site)
                or made_for_the_missing(view, site, self._passed_on_the_way(task)) or self._branch_left_by_a_method(task, view, site)
                or self._branch_settled(task, view, site) or (".delete(" in self._text(caller) and collected_then_deleted(view, site))
                or (rows_already_there(view, site, model, self._passed_on_the_way(task)) if model else "")
                for site in sites
            ]
            here = "; ".join(dict.fromkeys(each)) if all(each) else ""
            if not here:
                if caller == task:
                    return ""
                here = self._callers(task, caller, seen | {caller}, depth - 1, model)
                if not here:
                    return ""
            else:
                here = f"{here} in {caller.qualname}()"
            reasons.append(here)
        return "; ".join(dict.fromkeys(reasons))


# What the text of a function must hold for a guard to be possible: a condition, and a stored value written
# (`x.state = ...`, `.set(`, `setattr(`), a sent marker for a send, or for a call that makes rows a second
# mention of the model, a delete, or a difference.
_CONDITION = re.compile(r"\b(if|while|except)\b")
_STORED_WRITE = re.compile(r"^\s*[A-Za-z_][\w.]*\.\w+\s*=[^=]|\.set\(|\bsetattr\(", re.M)
_TAKEN_MARK = re.compile(r"\.(delete|\w*pop\w*|getdel|clear|reset|unset)\(")
_MARKER = re.compile(r"sent|notified|emailed|mailed|texted|messaged|welcomed|reminded|invited|alerted|cache|exists|count|created|status|state", re.I)


_FIELD_HANDED_ON = re.compile(r"""[{,]\s*["'](\w+)["']\s*:|\.a?update\((\w+)=""")


def _writes_a_field_it_reads(text: str) -> bool:
    """A field handed to a call that writes it (`data={"status": ...}`, `.update(status=...)`) that the text also
    reads as an attribute (`email.status`): a stored value written through a helper or an update by key."""
    fields = {a or b for a, b in _FIELD_HANDED_ON.findall(text)}
    return any(re.search(rf"\w\.{field}\b", text) for field in fields)


_TESTED_ROW = re.compile(r"\b(?:el)?if\s+(?:not\s+)?(\w+)\.\w+")


def _calls_a_method_of_a_tested_row(text: str) -> bool:
    """`if job.status == PENDING:` and `job.retry()` or `refresh(job)`: a method of the row, or a function
    handed it, may set what was tested."""
    return any(re.search(rf"\b{name}\.\w+\(|[(,]\s*{name}\s*[,)]", text) for name in set(_TESTED_ROW.findall(text)) - {"self"})


def _could_guard(text: str, sends: bool, model: str) -> bool:
    if sends and _MARKER.search(text):
        return True  # a sent marker checked before the send, or written before it
    condition = bool(_CONDITION.search(text))
    if condition and (_STORED_WRITE.search(text) or _TAKEN_MARK.search(text) or _writes_a_field_it_reads(text)
                      or _calls_a_method_of_a_tested_row(text)):
        return True
    return bool(model) and (
        model == "?" or ".delete(" in text or " - " in text or "__isnull" in text
        or (condition and (text.lower().count(model.lower()) > 1 or " not in " in text))
    )


_TESTED_NAME = re.compile(r"\bif\s+(\w+)\s*(?:(?:==|is)\s|:|and\b|or\b)")


def _tests_a_default(text: str) -> bool:
    """Text that could hold `if mode == Mode.X:` on a parameter with a default: read before parsing."""
    signature = text[: text.find(":\n")] if ":\n" in text else text
    return any(re.search(rf"\b{name}\s*(?::[^,=)]*)?=", signature) for name in _TESTED_NAME.findall(text))


def _parameter_equals(view: FunctionView, test: ast.AST) -> tuple[str, str] | None:
    """(parameter, constant) of `if mode == SyncMode.INSERT:` / `if mode is Mode.X:` on a parameter, also as
    one side of an `and` (`if mode == SyncMode.INSERT and bucket:`)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return next((found for value in test.values for found in [_parameter_equals(view, value)] if found), None)
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.Is))):
        return None
    left, right = test.left, test.comparators[0]
    if isinstance(right, ast.Name) and right.id in view.parameters():
        left, right = right, left
    if isinstance(left, ast.Name) and left.id in view.parameters() and _named_constant(view.segment(right)):
        return left.id, view.segment(right)
    return None


def _parameter_flags_joined_by_or(view: FunctionView, test: ast.AST) -> list[str]:
    """The parameters of `if field_ids or row_ids:`, each a parameter tested as a flag; [] for another test."""
    if not (isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or)):
        return []
    names = [value.id for value in test.values if isinstance(value, ast.Name) and value.id in view.parameters()]
    return names if len(names) == len(test.values) else []


def _parameter_flag(view: FunctionView, test: ast.AST) -> str:
    """The parameter of `if new_resource_created:`, also as one side of an `and`; "" for another test."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return next((found for value in test.values for found in [_parameter_flag(view, value)] if found), "")
    return test.id if isinstance(test, ast.Name) and test.id in view.parameters() else ""


def _named_constant(text: str) -> bool:
    """`SyncMode.INSERT`, `"insert"`, `INSERT`: a value that is the same on every run and names itself."""
    last = text.rsplit(".", 1)[-1]
    return (last.isupper() and last.replace("_", "").isalnum()) or (len(text) > 1 and text[0] == text[-1] and text[0] in "\"'")


def _defaults(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, str]:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    found = {a.arg: ast.unparse(d) for a, d in zip(positional[len(positional) - len(args.defaults):], args.defaults)}
    found.update({a.arg: ast.unparse(d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
    return found


def _call_at(view: FunctionView, line: int, column: int) -> ast.Call | None:
    """The call at a summary's position, also inside a lambda (`transaction.on_commit(lambda: send(...))`)."""
    return next((c for c in view.parents if c.__class__ is ast.Call and c.lineno == line and view.column(c) == column), None)
