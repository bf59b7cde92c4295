"""Why a redelivery skips a call: a check on the way to it that a first run already settles.

One reading, asked by the audit (for every effect it reports) and by the rules (sent-flag leaves a send
alone when it is already guarded). A guard is one of:
  - a flag, timestamp, status, cache key or sent-log row checked before a send (`if not user.welcomed_at`);
  - a stored value the function checks and also writes: claimed before the effect (`if mail.state == SENT:
    raise ...; mail.state = SENDING; mail.save()`) or recorded after it (`if result != gs.last: ...; gs.last =
    result`);
  - for a call that makes rows, a lookup of the same model first (`if Video.objects.filter(uuid=u).exists():
    continue`, `try: Video.objects.get(...); continue except DoesNotExist:`), or a delete of the same rows
    before it (delete-then-insert replaces);
and on the way from a task, a guard in any function whose call leads to the effect.
"""

from __future__ import annotations

import ast
import re

from .names import dotted, words
from .project import FunctionKey, Project
from .source import one_line
from .view import EXITS, FunctionView

# Words that make a condition a "was it sent already?" check: `if host.welcome_email_sent`, `sent_at`.
FLAG_WORDS = frozenset({"sent", "notified", "emailed", "mailed", "texted", "messaged", "welcomed", "reminded", "invited", "alerted"})
# Models and managers an existence check reads when it is an audit of sent messages.
AUDIT_WORDS = frozenset(
    {"log", "logs", "audit", "audits", "sent", "delivery", "deliveries", "notification", "notifications", "message",
     "messages", "email", "emails", "outbox", "history", "receipt", "receipts"}
)
CACHE_CHECKS = frozenset({"add", "get", "has_key", "get_or_set", "incr"})
STATUS_WORDS = frozenset({"status", "state"})
QUERIES = frozenset({"get", "filter", "exists", "first", "last", "count", "aget", "aexists", "afirst", "alast", "acount", "values_list"})
READ_ROWS = QUERIES | {"all", "values", "in_bulk", "select_related", "prefetch_related", "only", "order_by"}
COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match, ast.FunctionDef, ast.ClassDef)
TAKES_A_MARK = frozenset({"delete", "pop", "getdel"})  # in a condition: true for the one caller that removed it
READS_A_MARK = frozenset({"get", "exists", "is_set"})
CLEARS_A_MARK = frozenset({"clear", "delete", "reset", "unset"})
COMPREHENSION_TYPES = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def checked_before(view: FunctionView, calls: list[ast.Call], planned: frozenset[str] | set[str] = frozenset(), sends: bool = True) -> str:
    """Why the function skips `calls` on a repeat: a condition around them, or an early exit before them, that
    reads a sent marker (for sends) or a stored value the function also writes ("" when none does)."""
    reasons = [_check(view, [call], planned, sends)[0] for call in calls]
    return "; ".join(dict.fromkeys(reasons)) if reasons and all(reasons) else ""


def _check(view: FunctionView, calls: list[ast.Call], planned, sends: bool) -> tuple[str, ast.AST | None]:
    """checked_before() of calls one check covers, and the object whose stored value it reads (None for a
    marker): the guard holds only if a redelivery meets the same object."""
    if not calls:
        return "", None
    first = min((c.lineno, c.col_offset) for c in calls)
    created = _created_names(view) if sends else set()
    for node in view.nodes:
        if not isinstance(node, (ast.If, ast.While)):
            continue
        encloses = all(node in view.ancestors(c) and _in_body(view, c, node) for c in calls)
        after = _statements_after_exit(view, node, calls) if not encloses and (node.lineno, node.col_offset) < first else None
        if not (encloses or after):
            continue
        if sends and _flaggy(view, node.test, planned, created):
            return f"it already checks `{one_line(view.segment(node.test), 90)}` (line {node.lineno}) before sending", None
        claimed = _claimed_in_test(view, node, encloses)
        if claimed:
            return claimed, None
        after_test = (node.test.end_lineno or node.lineno, node.test.end_col_offset or 0)
        on_path = [s for s in _on_the_way(view, calls[0]) if (s.lineno, s.col_offset) > after_test]
        written = _stored_write(view, node.test, on_path)
        if written is not None:
            chain, line, owner = written
            when = "records it after" if (line, 0) > first else "sets it before"
            return f"it compares `{chain}` (line {node.lineno}) before {'sending' if sends else 'the call'} and {when} (line {line})", owner
    return "", None


def _claimed_in_test(view: FunctionView, node: ast.If | ast.While, encloses: bool) -> str:
    """A pending mark the condition takes away as it reads it (`if cache.delete(key):` runs the body only for
    the run that removed the mark), or reads after the function cleared it (`flag.clear()` ... `if
    flag.get():` runs the body only when something set it again meanwhile)."""
    if not encloses:
        return ""
    for name in (n for n in ast.walk(node.test) if isinstance(n, ast.Name)):
        value = getattr(view.binding_before(name.id, node), "value", None)
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and "pop" in value.func.attr.lower():
            return (f"it runs only for what `{one_line(view.segment(value), 50)}` (line {value.lineno}) took off a queue: a repeat "
                    "takes the next item, not this one")
    for call in (n for n in ast.walk(node.test) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
        if call.func.attr in TAKES_A_MARK and call.args:
            return f"it runs only when `{one_line(view.segment(call), 60)}` (line {node.lineno}) removes a pending mark, which a repeat finds gone"
        if call.func.attr in READS_A_MARK:
            mark = _mark_of(view, call)
            cleared = next((c for c in view.calls() if isinstance(c.func, ast.Attribute) and c.func.attr in CLEARS_A_MARK
                            and _mark_of(view, c) == mark and (c.lineno, c.col_offset) < (node.lineno, node.col_offset)), None)
            if cleared is not None:
                return (f"it runs only when `{one_line(view.segment(call), 50)}` (line {node.lineno}) finds the mark set again after "
                        f"the function cleared it (line {cleared.lineno})")
    return ""


def _mark_of(view: FunctionView, call: ast.Call) -> tuple[str, str]:
    """What a mark call names: its receiver and its key (`cache.get(key)`), or the receiver alone (`flag.get()`)."""
    return view.segment(call.func.value), view.segment(call.args[0]) if call.args else ""


def _in_body(view: FunctionView, call: ast.Call, branch: ast.If | ast.While) -> bool:
    chain = [call, *view.ancestors(call)]
    return any(statement in chain for statement in branch.body)


def _rest_of_block(view: FunctionView, node: ast.stmt) -> list[ast.stmt]:
    where = view.block_of(node)
    return where[1][where[2] + 1 :] if where is not None else []


def _statements_after_exit(view: FunctionView, node: ast.If | ast.While, calls: list[ast.Call]) -> list[ast.stmt] | None:
    """The statements after an `if ...: return` (or raise, continue, break) in its own block, when every call
    is in one of them: the exit then skips the calls."""
    if not node.body or not isinstance(node.body[-1], EXITS):
        return None
    where = view.block_of(node)
    if where is None:
        return None
    rest = _rest_of_block(view, node)
    for call in calls:
        chain = [call, *view.ancestors(call)]
        if not any(statement in chain for statement in rest):
            return None
    return rest


def rows_already_there(view: FunctionView, call: ast.Call, model: str) -> str:
    """Why a call that makes `model` rows makes none on a repeat: a lookup of that model decides whether it
    runs, or the same rows are deleted before it."""
    if not model:
        return ""
    diffed = _made_from_a_difference(view, call)
    if diffed:
        return diffed
    chain = [call, *view.ancestors(call)]
    for child, ancestor in zip(chain, chain[1:]):
        if isinstance(ancestor, ast.If) and _decided_by(ancestor.test, model, ast.And):
            return f"it runs only after `{one_line(view.segment(ancestor.test), 80)}` (line {ancestor.lineno}) looks for the row"
        if isinstance(ancestor, ast.ExceptHandler) and "DoesNotExist" in view.segment(ancestor.type or ancestor):
            attempt = view.parents.get(ancestor)
            if isinstance(attempt, ast.Try) and any(_queries(s, model) for s in attempt.body):
                return f"it runs only when the lookup at line {attempt.lineno} finds no row"
        for earlier in _earlier_statements(ancestor, child):
            if _exits_when_found(earlier, model):
                return f"the lookup at line {earlier.lineno} skips it when the row is there"
            deleted = _deletes(view, earlier, model)
            if deleted:
                return f"it replaces the rows: `{one_line(deleted, 70)}` (line {earlier.lineno}) deletes them first"
    return ""


class Guards:
    """The guard of an effect on the way from a task: in the function holding it, or in every call of that
    function on the way. What a function's own code says is read once per call site, whatever task asks;
    only whether a stored value belongs to the same object a redelivery meets depends on the task."""

    def __init__(self, project: Project):
        self.project = project
        self._memo: dict[tuple, str] = {}
        self._checks: dict[tuple, tuple[str, ast.AST | None]] = {}
        self._rows: dict[tuple, str] = {}
        self._reach: dict[FunctionKey, frozenset[FunctionKey]] = {}
        self._sites: dict[FunctionKey, dict[FunctionKey, list[ast.Call]]] = {}
        self._texts: dict[FunctionKey, str] = {}

    def of(self, task: FunctionKey, key: FunctionKey, effect, model: str = "", on_the_way: bool = True) -> str:
        """The guard of the effect for this task; with `on_the_way` False only the function's own code is read
        (for an effect whose finding only gains a sentence: it stays low either way)."""
        memo = (task, key, effect.line, effect.column, on_the_way)
        if memo not in self._memo:
            self._memo[memo] = self._of(task, key, effect, model, on_the_way)
        return self._memo[memo]

    def _of(self, task: FunctionKey, key: FunctionKey, effect, model: str, on_the_way: bool) -> str:
        text = self._text(key)
        if effect.kind == "db_save" and effect.family == "new_row":
            model = "?"  # known once the view is read
        if effect.kind == "db_save" and not effect.family and "." in key.qualname:
            model = key.qualname.split(".")[0]  # `image.save()` in `ExerciseImage.from_json`: found by its class's lookups
        if not _could_guard(text, effect.kind == "send", model):
            return "" if key == task or not on_the_way else self._callers(task, key, frozenset({key}), 3, model)
        view = self.project.view(key)
        call = _call_at(view, effect.line, effect.column) if view is not None else None
        if call is None:
            return ""
        if effect.kind == "db_save" and effect.family == "new_row":
            model = view.local_types.get(effect.receiver, "").rsplit(".", 1)[-1]
        found = self._checked(view, call, effect.kind == "send", task)
        if not found and effect.kind == "send":
            found = self.marked_first(task, view, [call])
        if not found and model:
            memo = (key, effect.line, effect.column, model)
            if memo not in self._rows:
                self._rows[memo] = rows_already_there(view, call, model)
            found = self._rows[memo]
        if found or key == task or not on_the_way:
            return found
        return self._callers(task, key, frozenset({key}), 3, model)

    def _text(self, key: FunctionKey) -> str:
        """The function's own lines, to rule a guard out without parsing it (joined once per run)."""
        if key not in self._texts:
            function, source = self.project.function(key), self.project.source(key.module)
            self._texts[key] = "\n".join(source.lines[function.first_line - 1 : function.end_line]) if function and source else ""
        return self._texts[key]

    def marked_first(self, task: FunctionKey, view: FunctionView, calls: list[ast.Call]) -> str:
        """The rows are marked as sent before each send, in the same function (`....update(last_email_sent_at=now)`,
        then the send, often on commit), and the task selects by that mark somewhere on its way: a redelivery
        after the commit selects nothing to send again."""
        modules = {key.module for key in self._reached(task)}
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
        for earlier, node in _before(view, call):
            field = _sent_mark(node)
            if field:
                yield field, node.lineno, 1
            elif isinstance(node, ast.Call):
                for target in self.project.graph.targets(view, node):
                    callee = self.project.view(target)
                    for update in (c for c in callee.calls() if callee is not None and _is_update(c)):
                        claimed = _claimed_by_update(update)
                        if claimed:
                            yield claimed, node.lineno, 2

    def branch_not_taken(self, task: FunctionKey, key: FunctionKey, effect) -> str:
        """Why the effect never runs on this task's way: it sits under `if mode == SyncMode.INSERT:` in a
        function every call of which, from the task, leaves `mode` at a default of another value (or passes
        one). "" when it may run."""
        if key == task or not _tests_a_default(self._text(key)):
            return ""
        view = self.project.view(key)
        call = _call_at(view, effect.line, effect.column) if view is not None else None
        if call is None:
            return ""
        chain = [call, *view.ancestors(call)]
        for child, ancestor in zip(chain, chain[1:]):
            if not isinstance(ancestor, ast.If) or child not in ancestor.body:
                continue
            tested = _parameter_equals(view, ancestor.test)
            if tested is None:
                continue
            parameter, wanted = tested
            passed = self._values_passed(task, key, view, parameter)
            if passed and wanted not in passed and all(_named_constant(v) for v in passed):
                shown = ", ".join(sorted(passed))
                return f"it runs only when {parameter} == {wanted} (line {ancestor.lineno}), and this task's calls pass {shown}"
        return ""

    def _values_passed(self, task: FunctionKey, key: FunctionKey, view: FunctionView, parameter: str) -> set[str]:
        """The values the task's calls of `key` give `parameter` (its default where they leave it), as written;
        empty when a call passes it in a way not read here."""
        positional = view.parameters(with_self=True)
        defaults = _defaults(view.node)
        offset = 1 if positional[:1] in (["self"], ["cls"]) else 0
        values: set[str] = set()
        callers = [c for c in self.project.graph.callers(key) if c in self._reached(task)]
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
        callers = [c for c in graph.callers(key) if c in self._reached(task) and c not in seen]
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

    def _reached(self, task: FunctionKey) -> frozenset[FunctionKey]:
        if task not in self._reach:
            self._reach[task] = frozenset(self.project.reachable_from(task))
        return self._reach[task]

    def _checked(self, view: FunctionView, call: ast.Call, sends: bool, task: FunctionKey) -> str:
        """checked_before() of one call, when a redelivery meets the same object: a value stored on a row this
        run creates (`mail = QueuedMail(...)`) is no guard, each run has its own row."""
        memo = (view.key, call.lineno, call.col_offset, sends)
        if memo not in self._checks:
            self._checks[memo] = _check(view, [call], frozenset(), sends)
        found, owner = self._checks[memo]
        if owner is None or not found:
            return found
        return found if self._same_object(view, owner, self._reached(task)) else ""

    def _same_object(self, view: FunctionView, owner: ast.AST, reach: frozenset) -> bool:
        provenance = self.project.provenance
        if isinstance(owner, ast.Name) and owner.id in view.parameters() and view.key not in self.project.task_keys:
            passed = [(v, value) for v, value in self.project.graph.arguments_for(view.key, owner.id) or () if v.key in reach]
            return bool(passed) and all(provenance.of(v, value).stable for v, value in passed)
        if isinstance(owner, ast.Name):
            binding = view.binding_before(owner.id, view.node.body[-1]) if not provenance.of(view, owner).stable else None
            owner = getattr(binding, "value", owner)
        if isinstance(owner, ast.Call):  # GlobalSettings().settings: a settings store found by a fixed name
            return not owner.args and not owner.keywords and (dotted(owner.func) or "").rsplit(".", 1)[-1].endswith("Settings")
        return provenance.of(view, owner).stable

    def _call_sites(self, caller: FunctionKey, key: FunctionKey) -> tuple[FunctionView | None, list[ast.Call]]:
        """The calls in `caller`'s own body that run `key` (all of its calls read once, whoever asks)."""
        view = self.project.view(caller)
        if caller not in self._sites:
            by_callee: dict[FunctionKey, list[ast.Call]] = {}
            for call in view.calls() if view is not None else ():
                if view.scope_of(call) is view.node:
                    for target in self.project.graph.targets(view, call):
                        by_callee.setdefault(target, []).append(call)
            self._sites[caller] = by_callee
        return view, self._sites[caller].get(key, [])

    def _callers(self, task: FunctionKey, key: FunctionKey, seen: frozenset, depth: int, model: str = "") -> str:
        """A guard around every call of `key` in the functions of the task that call it (for a call that makes
        `model` rows, also a lookup of that model before the call)."""
        reach = self._reached(task)
        callers = [c for c in self.project.graph.callers(key) if c in reach and c not in seen]
        if not callers or depth == 0:
            return ""
        reasons = []
        for caller in callers:
            if not _could_guard(self._text(caller), False, model):
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
            each = [self._checked(view, site, False, task) or (rows_already_there(view, site, model) if model else "") for site in sites]
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


def _could_guard(text: str, sends: bool, model: str) -> bool:
    if sends and _MARKER.search(text):
        return True  # a sent marker checked before the send, or written before it
    condition = bool(_CONDITION.search(text))
    if condition and (_STORED_WRITE.search(text) or _TAKEN_MARK.search(text)):
        return True
    return bool(model) and (
        model == "?" or ".delete(" in text or " - " in text or "__isnull" in text
        or (condition and (text.lower().count(model.lower()) > 1 or " not in " in text))
    )


_TESTED_NAME = re.compile(r"\bif\s+(\w+)\s*(?:==|is)\s")


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


def _earlier_statements(block_owner: ast.AST, child: ast.AST) -> list[ast.stmt]:
    for name in ("body", "orelse", "finalbody"):
        block = getattr(block_owner, name, None)
        if isinstance(block, list) and child in block:
            return block[: block.index(child)]
    return []


def _mentions(node: ast.AST, model: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == model or isinstance(n, ast.Attribute) and n.attr == model for n in ast.walk(node))


def _queries(node: ast.AST, model: str) -> bool:
    """`Video.objects.filter(...).exists()` and the like, on `model`; or `hasattr(ingredient, "image")`, which
    looks up the row a one-to-one relation of that name holds."""
    return any(
        isinstance(n, ast.Call) and (
            (isinstance(n.func, ast.Attribute) and n.func.attr in QUERIES and _mentions(n.func.value, model))
            or (isinstance(n.func, ast.Name) and n.func.id == "hasattr" and len(n.args) == 2
                and isinstance(n.args[1], ast.Constant) and n.args[1].value == model.lower())
        )
        for n in ast.walk(node)
    )


def _made_from_a_difference(view: FunctionView, call: ast.Call) -> str:
    """The rows made are only those a query did not find: the call sits under `if key not in existing`, or
    what it is given was built as `wanted - existing` or `[x for x in wanted if x not in existing]` (there or
    in a name bound to it), with `existing` read from the database in the function (a diff-based sync)."""
    for ancestor in view.ancestors(call):
        if isinstance(ancestor, ast.If) and _not_in_queried(view, ancestor.test, ancestor):
            return f"it makes only what `{one_line(view.segment(ancestor.test), 60)}` (line {ancestor.lineno}) finds missing"
    for argument in [*call.args, *(k.value for k in call.keywords)]:
        found = _difference_in(view, argument, call)
        if found is None:
            names = {n.id for n in ast.walk(argument) if isinstance(n, ast.Name)}
            bound = [view.binding_before(name, call) for name in names]
            found = next((f for b in bound if getattr(b, "value", None) is not None for f in [_difference_in(view, b.value, b)] if f), None)
        if found is not None:
            return f"it makes only `{one_line(view.segment(found), 60)}` (line {found.lineno}), what a query did not find"
        skipped = _collected_past_a_skip(view, argument)
        if skipped is not None:
            return (f"it makes only the items the loop keeps past `{one_line(view.segment(skipped.test), 60)}` (line "
                    f"{skipped.lineno}), which skips what a query found")
    return ""


def _collected_past_a_skip(view: FunctionView, argument: ast.AST) -> ast.If | None:
    """`rows.append(row)` in a loop that first skips what a query found (`if key in existing: continue`), for a
    list `rows` the call is given."""
    if not isinstance(argument, ast.Name):
        return None
    appends = [c for c in view.calls() if isinstance(c.func, ast.Attribute) and c.func.attr in {"append", "extend", "add"}
               and isinstance(c.func.value, ast.Name) and c.func.value.id == argument.id]
    if not appends:
        return None
    for append in appends:
        skip = None
        chain = [append, *view.ancestors(append)]
        for child, ancestor in zip(chain, chain[1:]):
            if isinstance(ancestor, (ast.For, ast.AsyncFor, ast.While)):
                skip = next((s for s in _earlier_statements(ancestor, child) if _skips_what_was_found(view, s)), None)
                break
            skip = next((s for s in _earlier_statements(ancestor, child) if _skips_what_was_found(view, s)), None)
            if skip is not None:
                break
        if skip is None:
            return None
    return skip


def _skips_what_was_found(view: FunctionView, statement: ast.stmt) -> bool:
    """`if key in existing: continue` with `existing` read from the database."""
    return (
        isinstance(statement, ast.If) and bool(statement.body) and isinstance(statement.body[-1], (ast.Continue, ast.Return))
        and any(isinstance(n, ast.Compare) and any(isinstance(op, ast.In) for op in n.ops) and _queried(view, n.comparators[-1], statement)
                for n in ast.walk(statement.test))
    )


def _difference_in(view: FunctionView, value: ast.AST, at: ast.AST) -> ast.AST | None:
    """`wanted - existing` or a comprehension's `if x not in existing`, with `existing` queried."""
    for node in ast.walk(value):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and _queried(view, node.right, at):
            return node
        if isinstance(node, COMPREHENSION_TYPES) and any(_not_in_queried(view, test, at) for g in node.generators for test in g.ifs):
            return node
        if isinstance(node, COMPREHENSION_TYPES) and any(_selects_the_missing(g.iter) for g in node.generators):
            return node
    return None


def _selects_the_missing(node: ast.AST) -> bool:
    """A query for rows that have none yet: `Translation.objects.filter(memory_entries__isnull=True)`."""
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "filter" and any(
            k.arg and k.arg.endswith("__isnull") and isinstance(k.value, ast.Constant) and k.value.value is True for k in n.keywords
        )
        for n in ast.walk(node)
    )


def _not_in_queried(view: FunctionView, test: ast.AST, at: ast.AST) -> bool:
    return any(
        isinstance(node, ast.Compare) and any(isinstance(op, ast.NotIn) for op in node.ops) and _queried(view, node.comparators[-1], at)
        for node in ast.walk(test)
    )


def _queried(view: FunctionView, node: ast.AST, at: ast.AST, depth: int = 0) -> bool:
    """Whether a value is read from the database here: a query in it, or a name bound to one before `at`."""
    for part in ast.walk(node):
        if isinstance(part, ast.Call) and isinstance(part.func, ast.Attribute) and part.func.attr in READ_ROWS:
            return True
        if isinstance(part, ast.Name) and depth < 3:
            binding = view.binding_before(part.id, at)
            value = getattr(binding, "value", None) or getattr(binding, "iter", None)
            if value is not None and _queried(view, value, binding, depth + 1):
                return True
    return False


def _always_run(statements: list[ast.stmt]) -> list[ast.stmt]:
    """The simple statements that run whenever these do: a `with` block's body and a `try` body are opened;
    the branches of an if, a loop's body and an except clause may not run, so they are left out."""
    found = []
    for statement in statements:
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            found += _always_run(statement.body)
        elif isinstance(statement, ast.Try):
            found += _always_run([*statement.body, *statement.finalbody])
        elif not isinstance(statement, COMPOUND):
            found.append(statement)
    return found


def _on_the_way(view: FunctionView, call: ast.Call) -> list[ast.stmt]:
    """The statements a run that reaches the call also runs (those of its own blocks, before and after it),
    not those of branches it does not take."""
    chain = [call, *view.ancestors(call)]
    found: list[ast.stmt] = []
    left = False  # a return (or raise, continue, break) after the call ends the way: later statements are off it
    for child, ancestor in zip(chain, chain[1:]):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(ancestor, name, None)
            if isinstance(block, list) and child in block:
                index = block.index(child)
                found += block[:index]
                if not left:
                    later = block[index + 1 :]
                    exit_at = next((i for i, s in enumerate(later) if isinstance(s, EXITS)), None)
                    found += later if exit_at is None else later[: exit_at + 1]
                    left = exit_at is not None
    return found


def _before(view: FunctionView, call: ast.Call):
    """(statement, node) for every node of the statements that run before the call on its way."""
    chain = [call, *view.ancestors(call)]
    for child, ancestor in zip(chain, chain[1:]):
        for earlier in _earlier_statements(ancestor, child):
            for node in ast.walk(earlier):
                yield earlier, node


def _is_update(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {"update", "aupdate"}


def _sent_mark(node: ast.AST) -> str:
    """The sent marker a node writes: `....update(email_sent_at=...)` or `row.notified = ...` ("" for none)."""
    names = []
    if _is_update(node):
        names = [k.arg for k in node.keywords if k.arg]
    elif isinstance(node, ast.Assign):
        names = [t.attr for t in node.targets if isinstance(t, ast.Attribute)]
    return next((name for name in names if set(words(name)) & FLAG_WORDS), "")


def _claimed_by_update(update: ast.Call) -> str:
    """The field of `.filter(..., F=a).update(F=b)`: the update takes the rows out of what the filter selects."""
    updated = {k.arg for k in update.keywords if k.arg}
    node = update.func.value
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in {"filter", "exclude"}:
            common = updated & {k.arg for k in node.keywords if k.arg}
            if common:
                return sorted(common)[0]
        node = node.func.value
    return ""


def _decided_by(test: ast.AST, model: str, combined: type) -> bool:
    """Whether the lookup alone decides the condition: `if Video.objects.filter(...).exists()`, `if not ...`, or
    joined by `combined` (`or` for an early exit: found is enough to leave; `and` around the call: missing is
    needed to run it). `if not trophy.is_repeatable and Trophy.objects.filter(...).exists(): return` exits only
    for some rows, and guards nothing for the others."""
    if isinstance(test, ast.BoolOp):
        return isinstance(test.op, combined) and any(_decided_by(value, model, combined) for value in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return not isinstance(test.operand, ast.BoolOp) and _queries(test.operand, model)
    return _queries(test, model)


def _exits_when_found(statement: ast.stmt, model: str) -> bool:
    """`if Video.objects.filter(...).exists(): continue` or `try: Video.objects.get(...); continue`."""
    if isinstance(statement, ast.If):
        return bool(statement.body) and isinstance(statement.body[-1], EXITS) and _decided_by(statement.test, model, ast.Or)
    if isinstance(statement, ast.Try):
        return bool(statement.body) and isinstance(statement.body[-1], EXITS) and any(_queries(s, model) for s in statement.body)
    return False


BY_OWN_KEY = frozenset({"pk", "id", "pk__in", "id__in"})


def _deletes(view: FunctionView, statement: ast.stmt, model: str) -> str:
    """The text of a `<model>....delete()` call in the statement, "" when there is none."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {"delete", "adelete"} and _mentions(node.func.value, model):
            chosen = [c for c in ast.walk(node.func.value) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)]
            if any(c.func.attr == "exclude" or any(k.arg in BY_OWN_KEY for k in c.keywords) for c in chosen):
                continue  # deletes the rows left out, or some rows by their own key: not the ones made next
            return one_line(view.segment(node))
    return ""


def _stored_write(view: FunctionView, test: ast.AST, statements: list[ast.stmt]) -> tuple[str, int, ast.AST] | None:
    """(chain, line) when the test reads a stored value (`gs.settings.last_result`, `mail.state`) that one of
    `statements` sets to a fixed value or to the value it was compared with, and stores: `x.a = ...` then
    `x.save()`, `event.settings.x = ...`, `x.a.set("b", ...)` or `setattr(x.a, "b", ...)`."""
    read = {view.segment(n) for n in ast.walk(test) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load)}
    read.discard("")
    if not read:
        return None
    compared = {view.segment(n) for n in ast.walk(test) if isinstance(n, (ast.Name, ast.Attribute))}
    for statement in _always_run(statements):
        for node in ast.walk(statement):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    chain = view.segment(target) if isinstance(target, ast.Attribute) else ""
                    if chain in read and _fixed(view, node.value, compared) and _stored(view, chain, node):
                        return chain, node.lineno, _root(target)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "set" and node.args and isinstance(node.args[0], ast.Constant):
                chain = f"{view.segment(node.func.value)}.{node.args[0].value}"
                if chain in read:
                    return chain, node.lineno, _root(node.func.value)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" and len(node.args) == 3:
                owner, name = node.args[0], node.args[1]
                if isinstance(name, ast.Constant) and f"{view.segment(owner)}.{name.value}" in read:
                    return f"{view.segment(owner)}.{name.value}", node.lineno, _root(owner)
    return None


def _root(node: ast.AST) -> ast.AST:
    """`mail` of `mail.state`: the object a stored value belongs to."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node


def _fixed(view: FunctionView, value: ast.AST, compared: set[str]) -> bool:
    """A value a repeat writes again the same way: a constant, a named constant (`State.SENDING`), now(), or
    the value the test compared with."""
    if isinstance(value, ast.Constant):
        return True
    if isinstance(value, (ast.Name, ast.Attribute)):
        text = view.segment(value)
        return text in compared or text.rsplit(".", 1)[-1].isupper()
    return isinstance(value, ast.Call) and (dotted(value.func) or "").rsplit(".", 1)[-1] == "now"


def _stored(view: FunctionView, chain: str, write: ast.AST) -> bool:
    """The write reaches the database: a settings store, or the object saved after it."""
    if ".settings." in f".{chain}":
        return True
    owner = chain.rsplit(".", 1)[0]
    return any(
        isinstance(c.func, ast.Attribute) and c.func.attr in {"save", "asave"} and view.segment(c.func.value) == owner
        and (c.lineno, c.col_offset) > (write.lineno, write.col_offset)
        for c in view.calls()
    )


def _created_names(view: FunctionView) -> set[str]:
    """`log, created = SentEmail.objects.get_or_create(...)`: `created` tells a first run from a repeat."""
    names = set()
    for node in view.nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple):
            value = node.value.value if isinstance(node.value, ast.Await) else node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr.endswith(("get_or_create", "update_or_create")):
                elements = node.targets[0].elts
                if len(elements) == 2 and isinstance(elements[1], ast.Name):
                    names.add(elements[1].id)
    return names


def _flaggy(view: FunctionView, test: ast.AST, planned, created: set[str]) -> bool:
    """Does the condition read a sent flag, a sent timestamp or status, a cache key or an audit row?"""
    for node in ast.walk(test):
        identifiers: list[str] = []
        if isinstance(node, ast.Name):
            identifiers.append(node.id)
            if node.id in created:
                return True
        elif isinstance(node, ast.Attribute):
            if not (isinstance(node.value, ast.Name) and node.value.id == "settings"):  # a switch, not a flag
                identifiers.append(node.attr)
        elif isinstance(node, ast.keyword) and node.arg:
            identifiers.append(node.arg)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 40:
            identifiers.append(node.value)
        for identifier in identifiers:
            if identifier in planned or set(words(identifier)) & FLAG_WORDS:
                return True
        if _email_status(node):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in CACHE_CHECKS and "cache" in view.segment(node.func.value).lower():
                return True
            if node.func.attr in {"exists", "count", "aexists", "acount"} and _chain_words(node.func.value) & AUDIT_WORDS:
                return True
    return False


def _email_status(node: ast.AST) -> bool:
    """`booking.email_status == ...`: a status field about the message itself."""
    if not isinstance(node, ast.Attribute):
        return False
    parts = set(words(node.attr))
    return bool(parts & STATUS_WORDS) and bool(parts & {"email", "mail", "sms", "message", "notification", "delivery"})


def _chain_words(node: ast.AST) -> set[str]:
    found: set[str] = set()
    while isinstance(node, (ast.Call, ast.Attribute, ast.Name)):
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            found |= set(words(node.attr))
            node = node.value
        else:
            found |= set(words(node.id))
            break
    return found
