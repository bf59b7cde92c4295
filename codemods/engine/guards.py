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
and on the way from a task, a guard in any function whose call leads to the effect. What one function's
code says is read in `guard_checks.py` (checks, claims, marks) and `guard_rows.py` (lookups, replaced and
diffed rows); this module walks the way from each task and keeps the answers for the run.
"""

from __future__ import annotations

import ast
import re

from .guard_checks import always_run, before, check, claimed_by_update, fixed_value, is_update, on_the_way, sent_mark, stored
from .guard_rows import READ_ROWS, made_for_the_missing, rows_already_there
from .names import ONE_ROW, dotted
from .source import one_line
from .project import FunctionKey, Project
from .view import FunctionView


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
        if not (could or selects):
            return "" if key == task else self._callers(task, key, frozenset({key}), 3, model)
        view = self.project.view(key)
        call = _call_at(view, effect.line, effect.column) if view is not None else None
        if call is None:
            return ""
        if effect.kind == "db_save" and effect.family == "new_row":
            model = view.local_types.get(effect.receiver, "").rsplit(".", 1)[-1]
        found = (could and (self._checked(view, call, effect.kind == "send", task) or made_for_the_missing(view, call)
                            or self._branch_left_by_a_method(task, view, call) or self._only_what_it_clears(view, call))) or (
            selects and self._selected_then_changed(task, view, call))
        if not found and effect.kind == "send":
            found = self.marked_first(task, view, [call])
        if not found and model:
            memo = (key, effect.line, effect.column, model)
            if memo not in self._rows:
                self._rows[memo] = rows_already_there(view, call, model)
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
            flag = _parameter_flag(view, ancestor.test) if tested is None else ""
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

    def _may_change_its_selection(self, key: FunctionKey) -> bool:
        """Text that could hold a row selected by a field the function changes: a field written and stored
        here, and a lookup by that field (`active=True`, `last_sync__lt=`) here or in a caller two calls up,
        where `_selecting_query` looks. Read before parsing: most functions that save never select by what
        they write."""
        if key not in self._selection_changes:
            fields = _changed_fields(self._text(key))
            found = False
            if fields:
                lookup = re.compile(r"[(,]\s*(?:" + "|".join(map(re.escape, sorted(fields))) + r")(?:__\w+)?\s*=[^=]")
                near, frontier = {key}, {key}
                for _ in range(2):
                    frontier = {caller for k in frontier for caller in self.project.graph.callers(k)} - near
                    near |= frontier
                texts = [self._text(k) for k in near]
                found = any(lookup.search(text) for text in texts) or any(
                    fields & self._queryset_method_fields(method).keys()
                    for text in texts for method in set(_CUSTOM_QUERY.findall(text)) - ORM_CHAIN)
            self._selection_changes[key] = found
        return self._selection_changes[key]

    def _selected_then_changed(self, task: FunctionKey, view: FunctionView, call: ast.Call, only: str = "") -> str:
        """The row was selected by a field (`get(pk=i, active=True)`, `filter(last_sync__lt=t)`) that the
        function changes and saves on the call's way (`webhook.active = False`): a repeat does not select it
        again. Also for a call in a loop over a list of such rows (`for row in to_disable:`, each appended
        after its field was changed). `only` keeps to the row of that name."""
        for statement in always_run(on_the_way(view, call)):
            if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
                continue
            target = statement.targets[0]
            if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)) or only not in ("", target.value.id):
                continue
            owner, field = target.value.id, target.attr
            if not stored(view, view.segment(target), statement):
                continue
            query = self._selecting_query(task, view, owner, 2, view.scope_of(statement))
            selected = self._selected_by(query[1]) if query is not None else {}
            if field in selected and view.segment(statement.value) not in selected[field]:  # `active=True` then `active = True` changes nothing
                where, line = query[0], query[1].lineno
                if field not in _filtered_fields(query[1]):
                    where += f"through {'(), '.join(_project_query_methods(query[1]))}(), "
                return (f"it selects {owner} by {field} ({where}line {line}) and changes {field} (line {statement.lineno}): "
                        "a repeat does not select it again")
        return "" if only else self._over_changed_rows(task, view, call)

    def _over_changed_rows(self, task: FunctionKey, view: FunctionView, call: ast.Call) -> str:
        """A call in a loop over a list (`for row in to_disable:`) each item of which was appended after a
        field it was selected by changed: a repeat's list holds none of the first run's rows."""
        for loop in (a for a in view.ancestors(call) if isinstance(a, (ast.For, ast.AsyncFor)) and isinstance(a.iter, ast.Name)):
            appends = [c for c in view.calls() if isinstance(c.func, ast.Attribute) and c.func.attr == "append"
                       and isinstance(c.func.value, ast.Name) and c.func.value.id == loop.iter.id
                       and len(c.args) == 1 and isinstance(c.args[0], ast.Name)]
            reasons = [self._selected_then_changed(task, view, a, only=a.args[0].id) for a in appends]
            if reasons and all(reasons):
                return f"{reasons[0]}, and the loop at line {loop.lineno} goes over those rows"
        return ""

    def _selecting_query(self, task: FunctionKey, view: FunctionView, name: str, depth: int,
                         scope: ast.AST | None = None, at: ast.AST | None = None) -> tuple[str, ast.Call] | None:
        """(where, the query call) a name's row came from: `x = Model.objects.get(...)`, `for x in qs.filter(...)`,
        or, for a parameter, the argument every caller on this task's way passes (for a parameter of a function
        nested in this one, what its calls here pass)."""
        if scope is not None and scope is not view.node and name in view.parameters(scope):
            return self._passed_to_nested(task, view, scope, name, depth)
        binding = view.binding_before(name, at or view.node.body[-1])
        value = getattr(binding, "value", None) if not isinstance(binding, (ast.For, ast.AsyncFor)) else binding.iter
        if isinstance(value, ast.Name) and depth:
            return self._selecting_query(task, view, value.id, depth - 1)
        if isinstance(value, ast.Call):
            return "", value
        if binding is None and name in view.parameters() and depth:
            reach = self._reached(task)
            passed = [(v, a) for v, a in self.project.graph.arguments_for(view.key, name) or () if v.key in reach]
            found = [self._selecting_query(task, v, a.id, depth - 1) if isinstance(a, ast.Name) else None for v, a in passed]
            if passed and all(found) and len({f[1].lineno for f in found}) == 1:
                caller = passed[0][0].key.qualname
                return f"{caller}(), ", found[0][1]
        return None

    def _branch_left_by_a_method(self, task: FunctionKey, view: FunctionView, call: ast.Call) -> str:
        """The call sits in a branch taken on a stored value of a row (`elif job.status == PENDING:`) and, on the
        way, a method of that row sets the value and saves it (`job.retry()`, whose body does `self.status =
        RUNNING; self.save()`): a repeat meets the row with the new value and does not take the branch."""
        chain = [call, *view.ancestors(call)]
        for child, branch in zip(chain, chain[1:]):
            if not isinstance(branch, ast.If) or child not in branch.body:
                continue
            read = {view.segment(n) for n in ast.walk(branch.test) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
            after_test = (branch.test.end_lineno or branch.lineno, branch.test.end_col_offset or 0)
            statements = [s for s in [*on_the_way(view, call), view.statement_of(call)] if (s.lineno, s.col_offset) > after_test]
            for method_call in (n for s in statements for n in ast.walk(s) if isinstance(n, ast.Call)):
                owner = method_call.func.value if isinstance(method_call.func, ast.Attribute) else None
                if not isinstance(owner, ast.Name) or not any(r.startswith(f"{owner.id}.") for r in read):
                    continue
                for target in self.project.graph.targets(view, method_call):
                    field, line = self._set_and_saved_on_self(target, {r.split(".", 1)[1] for r in read if r.startswith(f"{owner.id}.")})
                    if field and self._same_object(view, owner, self._reached(task)):
                        return (f"it runs only when `{one_line(view.segment(branch.test), 60)}` (line {branch.lineno}), and "
                                f"{owner.id}.{method_call.func.attr}() sets {field} and saves it ({target.qualname}, line {line}): "
                                "a repeat does not take this branch again")
        return ""

    def _only_what_it_clears(self, view: FunctionView, call: ast.Call) -> str:
        """The call runs only when a list is not empty (`if fields_to_save: workflow.save(update_fields=...)`),
        and the list gets an item only in a branch that reads a stored value and clears it (`if
        workflow.simulate_until_node: workflow.simulate_until_node = None; fields_to_save.append(...)`): a repeat
        finds the values cleared and the list empty."""
        branch = next((a for a in view.ancestors(call) if isinstance(a, ast.If)), None)
        listed = branch.test if branch is not None else None
        if isinstance(listed, ast.Call) and dotted(listed.func) == "len" and listed.args:
            listed = listed.args[0]
        if not isinstance(listed, ast.Name):
            return ""
        adds = [c for c in view.calls() if isinstance(c.func, ast.Attribute) and c.func.attr in {"append", "add", "extend"}
                and isinstance(c.func.value, ast.Name) and c.func.value.id == listed.id]
        cleared = [self._cleared_where_added(view, add) for add in adds]
        if not adds or not all(cleared):
            return ""
        fields = " or ".join(dict.fromkeys(cleared))
        return (f"it runs only when `{listed.id}` (line {branch.lineno}) has items, added only where {fields} is set and then "
                "cleared and saved: a repeat finds them cleared")

    @staticmethod
    def _cleared_where_added(view: FunctionView, add: ast.Call) -> str:
        """`o.f` when the add sits in `if o.f:` whose branch clears `o.f` (None or False): a repeat that meets the row
        again finds it cleared, and a row a repeat makes anew has it unset."""
        branch = next((a for a in view.ancestors(add) if isinstance(a, ast.If)), None)
        if branch is None or not isinstance(branch.test, ast.Attribute) or not isinstance(branch.test.value, ast.Name):
            return ""
        chain = view.segment(branch.test)
        for statement in branch.body:
            if (isinstance(statement, ast.Assign) and len(statement.targets) == 1 and view.segment(statement.targets[0]) == chain
                    and isinstance(statement.value, ast.Constant) and statement.value.value in (None, False)):
                return f"`{chain}`"
        return ""

    def _set_and_saved_on_self(self, method: FunctionKey, fields: set[str]) -> tuple[str, int]:
        """(field, line) of `self.<field> = <a named value>` that the method then saves, for one of `fields`."""
        body = self.project.view(method)
        for node in body.nodes if body is not None else ():
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute):
                target = node.targets[0]
                if (isinstance(target.value, ast.Name) and target.value.id == "self" and target.attr in fields
                        and fixed_value(body, node.value) and stored(body, f"self.{target.attr}", node)):
                    return target.attr, node.lineno
        return "", 0

    def _passed_to_nested(self, task: FunctionKey, view: FunctionView, nested: ast.AST, name: str, depth: int) -> tuple[str, ast.Call] | None:
        """The query behind what every call of a nested function (`def fail_job(job):` ... `fail_job(running_job)`)
        passes for its parameter `name`."""
        index = view.parameters(nested).index(name)
        calls = [c for c in view.calls() if isinstance(c.func, ast.Name) and c.func.id == getattr(nested, "name", None)]
        passed = [c.args[index] if index < len(c.args) else next((k.value for k in c.keywords if k.arg == name), None) for c in calls]
        if not depth or not passed or not all(isinstance(p, ast.Name) for p in passed):
            return None
        found = [self._selecting_query(task, view, p.id, depth - 1, view.scope_of(p), p) for p in passed]
        return found[0] if all(found) and len({f[1].lineno for f in found}) == 1 else None

    def _selected_by(self, query: ast.Call) -> dict[str, set[str]]:
        """_filtered_fields() of a query chain, with what the project's own queryset methods in it select by
        (`Job.objects.running()`, whose body excludes the final statuses)."""
        fields = _filtered_fields(query)
        for method in _project_query_methods(query):
            for field, values in self._queryset_method_fields(method).items():
                fields.setdefault(field, set()).update(values)
        return fields

    def _queryset_method_fields(self, method: str) -> dict[str, set[str]]:
        """The fields a project QuerySet or Manager method of that name filters or excludes by; {} when no such
        method is loaded, or when several classes define one."""
        if method not in self._queryset_methods:
            owners = [FunctionKey(module, f"{cls.qualname}.{method}") for module, summary in self.project.modules.items()
                      for cls in summary.classes.values() if cls.name.endswith(("QuerySet", "Manager")) and method in cls.methods]
            fields: dict[str, set[str]] = {}
            body = self.project.view(owners[0]) if len(owners) == 1 else None
            for call in body.calls() if body is not None else ():
                if isinstance(call.func, ast.Attribute) and call.func.attr in {"filter", "exclude", "get"}:
                    for field, values in _filtered_fields(call).items():
                        fields.setdefault(field, set()).update(values)
            self._queryset_methods[method] = fields
        return self._queryset_methods[method]

    def _reached(self, task: FunctionKey) -> frozenset[FunctionKey]:
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
        return found if self._same_object(view, owner, self._reached(task)) else ""

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

    def _read_by_a_getter(self, view: FunctionView, value: ast.AST) -> bool:
        """`view = ViewHandler().get_view(view_id)`: a row from a project function each return of which is a
        row a query read (`return queryset.select_related(...).get(pk=...)`, or a name bound to one): a row a
        redelivery reads again, not one the run builds."""
        if isinstance(value, ast.Name):
            value = getattr(view.binding_before(value.id, view.node.body[-1]), "value", None)
        targets = self.project.graph.targets(view, value) if isinstance(value, ast.Call) else []
        return bool(targets) and all(self._returns_a_read_row(target) for target in targets)

    def _returns_a_read_row(self, key: FunctionKey) -> bool:
        getter = self.project.view(key)
        returns = [n for n in getter.walk_scope(getter.node) if isinstance(n, ast.Return)] if getter is not None else []
        if not returns:
            return False
        for returned in returns:
            value = returned.value
            if isinstance(value, ast.Name):
                value = getattr(getter.binding_before(value.id, returned), "value", None)
            if not _one_row_of_a_query(value):
                return False
        return True

    def _call_sites(self, caller: FunctionKey, key: FunctionKey) -> tuple[FunctionView | None, list[ast.Call]]:
        """The caller's view and its calls of `key`, in source order (a reason names the first check first)."""
        view = self.project.view(caller)
        sites = self.project.graph.call_sites(view, key) if view is not None else []
        return view, sorted(sites, key=lambda c: (c.lineno, c.col_offset))

    def _callers(self, task: FunctionKey, key: FunctionKey, seen: frozenset, depth: int, model: str = "") -> str:
        """A guard around every call of `key` in the functions of the task that call it (for a call that makes
        `model` rows, also a lookup of that model before the call)."""
        reach = self._reached(task)
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
                or made_for_the_missing(view, site) or self._branch_left_by_a_method(task, view, site)
                or (rows_already_there(view, site, model) if model else "")
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


_CUSTOM_QUERY = re.compile(r"\.objects\.(\w+)\(")
_ATTRIBUTE_WRITE = re.compile(r"^\s*[A-Za-z_]\w*\.(\w+)\s*=[^=]", re.M)


def _changed_fields(text: str) -> set[str]:
    """The fields a function writes on a row it may store (saved, or collected for bulk_update)."""
    if ".save(" not in text and "bulk_update(" not in text:
        return set()
    return set(_ATTRIBUTE_WRITE.findall(text))


_FIELD_HANDED_ON = re.compile(r"""[{,]\s*["'](\w+)["']\s*:|\.a?update\((\w+)=""")


def _writes_a_field_it_reads(text: str) -> bool:
    """A field handed to a call that writes it (`data={"status": ...}`, `.update(status=...)`) that the text also
    reads as an attribute (`email.status`): a stored value written through a helper or an update by key."""
    fields = {a or b for a, b in _FIELD_HANDED_ON.findall(text)}
    return any(re.search(rf"\w\.{field}\b", text) for field in fields)


_TESTED_ROW = re.compile(r"\b(?:el)?if\s+(?:not\s+)?(\w+)\.\w+")


def _calls_a_method_of_a_tested_row(text: str) -> bool:
    """`if job.status == PENDING:` and `job.retry()`: a method of the row may set what was tested."""
    return any(re.search(rf"\b{name}\.\w+\(", text) for name in set(_TESTED_ROW.findall(text)) - {"self"})


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


_TESTED_NAME = re.compile(r"\bif\s+(\w+)\s*(?:(?:==|is)\s|:|and\b)")


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


FALSY = frozenset({"False", "None", "0", '""', "''"})


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


# Query methods Django itself defines: any other method in a chain on a manager is the project's own.
ORM_CHAIN = frozenset({
    "get", "aget", "filter", "exclude", "all", "select_related", "prefetch_related", "select_for_update", "only", "defer",
    "order_by", "distinct", "using", "annotate", "alias", "values", "values_list", "first", "last", "latest", "earliest",
    "iterator", "none", "reverse", "union", "intersection", "difference", "extra", "dates", "datetimes", "in_bulk", "count",
    "exists", "afirst", "alast", "acount", "aexists", "aiterator",
})


def _project_query_methods(query: ast.Call) -> list[str]:
    """The methods of a query chain Django does not define (`running` of `Job.objects.running()`), first first."""
    found = []
    node: ast.AST = query
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr not in ORM_CHAIN:
            found.insert(0, node.func.attr)
        node = node.func.value
    return found


def _filtered_fields(query: ast.Call) -> dict[str, set[str]]:
    """The fields a query chain selects on, with the values exact lookups ask for ("" for a range or a test):
    `get(pk=i, active=True)` -> {pk: {"i"}, active: {"True"}}; `last_sync__lt=t` -> {last_sync: {""}}; also inside
    Q(...), where `Q(kind=A) | Q(kind=B)` asks for either."""
    fields: dict[str, set[str]] = {}
    node: ast.AST = query
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in {"get", "filter", "exclude", "aget"}:
            for keyword in (k for part in [*node.args, *node.keywords] for k in ast.walk(part) if isinstance(k, ast.keyword) and k.arg):
                name, _, lookup = keyword.arg.partition("__")
                fields.setdefault(name, set()).add(ast.unparse(keyword.value) if not lookup and node.func.attr != "exclude" else "")
        node = node.func.value
    return fields


def _one_row_of_a_query(value: ast.AST | None) -> bool:
    """`qs.select_related("table").get(pk=i)`, `Model.objects.filter(...).first()`: a chain of query methods
    (one at least before the last, so that a dict's `.get(key)` is not one) that ends in one row."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in ONE_ROW):
        return False
    inner = value.func.value
    return (isinstance(inner, ast.Attribute) and inner.attr == "objects") or (
        isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr in READ_ROWS)


def _call_at(view: FunctionView, line: int, column: int) -> ast.Call | None:
    """The call at a summary's position, also inside a lambda (`transaction.on_commit(lambda: send(...))`)."""
    return next((c for c in view.parents if c.__class__ is ast.Call and c.lineno == line and view.column(c) == column), None)
