"""Two or more writes in one block of task code, one of them a create -> `with transaction.atomic():`.

A worker that dies between two writes leaves the first one committed; the redelivered task then
creates that row again. Inside one transaction the crash rolls everything back, and the redelivery
starts from a clean database.

Detection starts from the per-function `effects` of the index (cheap); only the few functions that
have two writes with a create among them are planned in detail on their `ast` (parsed from the
function's own lines, not the whole module): which statements of which block the writes share, and
the smallest contiguous run that holds them.
The fix moves that run into a `with transaction.atomic():` body (libcst re-indents it by one level).

Policy, in short (docs/rules/atomic-multi-create.md has it in full):
- writes on exclusive paths (if / else branches, a branch that returns) are not paired;
- writes inside a loop body are wrapped per iteration; a loop that shares its block with other
  writes is inside their range, so the whole loop commits with them; `loops = "whole"` under
  `[tool.idem-fix.atomic-multi-create]` wraps the whole loop instead of each iteration;
- `return`, `break` and `continue` inside the range are fine (leaving the `with` commits);
- a `yield`, an `async def`, or a `try` that catches database errors inside the range are reported,
  not rewritten.
"""

from __future__ import annotations

from pathlib import Path

import ast
import io
import tokenize
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst

from ..engine import facts
from ..engine.edits import PositionedTransformer
from ..engine.imports import ensure_from_import
from ..engine.names import call_reference, dotted, local_types
from ..engine.project import FunctionKey, Project, Symbol
from ..engine.levels import Applicability
from ..engine.rules import Finding, Options, Rule, from_status, functions_in_scope, money_risk, suppressed
from ..engine.source import LINE_BREAK, parse_function
from ..engine.summarize import suppressions
from ..engine.walk import child_nodes

NAME = "atomic-multi-create"
WRITES = frozenset({"db_create", "db_upsert", "db_save", "db_update", "db_delete"})
OUTSIDE = frozenset({"send", "external", "fanout"})  # what a rollback cannot undo
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
LOOPS = (ast.For, ast.AsyncFor, ast.While)
EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
TRIES = tuple(getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name))  # TryStar: Python 3.11+
RANGE_PROBLEMS = (ast.Yield, ast.YieldFrom, *TRIES)
BINDINGS = (
    ast.Name, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.ExceptHandler,
    ast.MatchAs, ast.MatchStar, ast.MatchMapping, ast.Global,
)  # the nodes that may bind a name in a function (see _local_bindings)
DB_ERRORS = frozenset(
    {
        "IntegrityError", "DatabaseError", "OperationalError", "DataError", "InternalError",
        "ProgrammingError", "NotSupportedError", "Error", "Exception", "BaseException",
    }
)
ATOMIC_TARGETS = frozenset({"django.db.transaction.atomic"})


@dataclass(frozen=True)
class Plan:
    line: int  # first statement of the run, as libcst counts (the finding's line too)
    column: int
    end_line: int  # first line of the run's last statement
    avoid: tuple[str, ...] = ()  # names bound in the function (and enclosing ones): the callee must not use them
    local: str = ""  # an atomic callee the function already imports itself ("transaction.atomic")


@dataclass
class _Write:
    effect: facts.Effect
    node: ast.Call
    chain: frozenset[int]  # ids of the ast nodes from the function down to the call
    create: bool
    label: str  # for messages: "`Order.objects.create()` (line 12)"


@dataclass
class _Group:
    block: list[ast.stmt]
    first: int
    last: int
    writes: list[_Write]
    loop: ast.stmt | None = None  # wrapped per iteration of this loop
    whole_loop: bool = False  # the run is a loop wrapped whole because the configuration asks for it


@dataclass
class _Source:
    lines: list[str]
    imports: dict[str, str]
    suppressions: dict[int, frozenset[str]] = field(default_factory=dict)

    def char_column(self, line: int, byte_offset: int) -> int:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))

    def starts_line(self, node: ast.stmt) -> bool:
        text = self.lines[node.lineno - 1] if 0 < node.lineno <= len(self.lines) else ""
        return not text.encode("utf-8")[: node.col_offset].strip()


class AtomicMultiCreate(Rule):
    def detect(self, project: Project, options: Options) -> list[Finding]:
        findings: list[Finding] = []
        context = _Context(project)
        for key, function, reach in functions_in_scope(project, options, _may_pair_writes):
            for finding in _FunctionCheck(context, key, function).run():
                finding.task = reach.task.name if reach else ""
                findings.append(finding)
        return findings

    def transform(self, module: cst.Module, plans: list) -> tuple[cst.Module, list]:
        t_module, t_name = ensure_from_import(module, "django.db", "transaction")
        a_module, a_name = ensure_from_import(module, "django.db.transaction", "atomic")
        choices: list[tuple[str, tuple[str, str] | None]] = []
        if t_module is module:
            choices.append((f"{t_name}.atomic", None))
        if a_module is module:
            choices.append((a_name, None))
        choices += [(f"{t_name}.atomic", ("django.db", "transaction")), (a_name, ("django.db.transaction", "atomic"))]
        callees: dict[Plan, str] = {}
        needs: dict[Plan, tuple[str, str] | None] = {}
        open_plans = [p for p in plans if not p.local]
        for callee, need in choices:  # one name for the whole file when one fits every function
            if all(callee.split(".")[0] not in p.avoid for p in open_plans):
                choices = [(callee, need)]
                break
        for plan in plans:
            if plan.local:
                callees[plan], needs[plan] = plan.local, None
                continue
            for callee, need in choices:
                if callee.split(".")[0] not in plan.avoid:
                    callees[plan], needs[plan] = callee, need
                    break
        result, transformer = _Wrap.run(module, callees)
        expected = {("django.db", "transaction"): t_name, ("django.db.transaction", "atomic"): a_name}
        for need in dict.fromkeys(needs[p] for p in transformer.applied if needs[p]):
            result, local = ensure_from_import(result, *need)
            if local != expected[need]:  # the name the new `with` lines use: never write a mismatch
                return module, []
        return result, transformer.applied


def _may_pair_writes(function: facts.Function) -> bool:
    """Two writes, a create among them, in the index's effects: only such functions are parsed."""
    if len(function.effects) < 2:
        return False
    writes = [e for e in function.effects if e.kind in WRITES]
    return len(writes) >= 2 and any(e.kind in {"db_create", "db_save"} for e in writes)


class _Context:
    """What several functions of one run share: parsed sources, the caller map, the configuration."""

    def __init__(self, project: Project):
        self.project = project
        self.sources: dict[str, _Source | None] = {}
        self._models: dict[Symbol, bool] = {}
        self._nodes: dict[tuple[str, int, str], ast.FunctionDef | ast.AsyncFunctionDef | None] = {}
        self._module_functions: dict[str, dict[tuple[int, str], ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        self._by_name: dict[str, list[tuple[FunctionKey, str]]] | None = None
        self._callers: dict[FunctionKey, set[FunctionKey]] = {}
        self._resolved: set[str] = set()
        self._sites: dict[FunctionKey, list] = {}
        self._atomic_callers: dict[FunctionKey, str] = {}
        self.tasks = {t.key for t in project.tasks}
        section = project.config.section
        own = section.get(NAME, {}) if isinstance(section.get(NAME, {}), dict) else {}
        self.whole_loops = own.get("loops") == "whole"
        wrappers = section.get("atomic-wrappers", [])
        self.wrappers = {w for w in wrappers if isinstance(w, str)} if isinstance(wrappers, list) else set()
        self.wrapper_names = {w.rsplit(".", 1)[-1] for w in self.wrappers}

    def source(self, module: str) -> _Source | None:
        """The module's lines, imports and suppressions; the module is indexed, so its source parses."""
        if module not in self.sources:
            summary = self.project.module(module)
            if summary is None:
                self.sources[module] = None
            else:
                try:
                    data = self.project.source_bytes(module)
                    encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
                    text = data.decode(encoding, errors="replace")
                except (OSError, SyntaxError, LookupError):
                    self.sources[module] = None
                    return None
                lines = LINE_BREAK.split(text) if "\r" in text else text.split("\n")  # the same lines, faster
                self.sources[module] = _Source(lines, summary.imports, suppressions(text))
        return self.sources[module]

    def is_model(self, symbol: Symbol) -> bool:
        """Whether a class is a Django model (`project.model` builds the whole model, every time)."""
        if symbol not in self._models:
            self._models[symbol] = self.project.model(symbol.module, symbol.name) is not None
        return self._models[symbol]

    def is_atomic(self, node: ast.AST, imports: dict[str, str]) -> bool:
        """`transaction.atomic`, `atomic(using=...)`, an alias of django's atomic, a configured wrapper."""
        if isinstance(node, ast.Call):
            node = node.func
        return self.is_atomic_name(dotted(node) or "", imports)

    def is_atomic_name(self, name: str, imports: dict[str, str]) -> bool:
        if not name:
            return False
        if name.rsplit(".", 1)[-1] == "atomic":
            return True
        root, _, rest = name.partition(".")
        full = f"{imports[root]}.{rest}".rstrip(".") if root in imports else name
        if full in ATOMIC_TARGETS:
            return True
        return name in self.wrappers or full in self.wrappers or name.rsplit(".", 1)[-1] in self.wrapper_names

    def decorated_atomic(self, function: facts.Function, imports: dict[str, str]) -> bool:
        """Read off the index: the function's node is parsed without its decorators."""
        return function.atomic or any(self.is_atomic_name(d.target, imports) for d in function.decorators)

    # --- callers ------------------------------------------------------------------------------

    def callers(self, key: FunctionKey) -> set[FunctionKey]:
        """The functions whose calls resolve to `key`. Call references are indexed once by their last
        name (string work only); the references of one name are resolved together, once per run."""
        if self._by_name is None:
            self._by_name = {}
            for caller, function in self.project.all_functions():
                for reference in set(function.calls):
                    self._by_name.setdefault(reference.rsplit(".", 1)[-1], []).append((caller, reference))
        name = key.qualname.rsplit(".", 1)[-1]
        if name not in self._resolved:
            self._resolved.add(name)
            candidates = self._by_name.get(name, [])
            if name == "__init__":  # `Cls(...)` calls the constructor
                candidates = [c for n, refs in self._by_name.items() if n[:1].isupper() for c in refs]
            for caller, reference in candidates:
                for target in self.project.call_targets(caller, reference):
                    if target.qualname.rsplit(".", 1)[-1] == name:
                        self._callers.setdefault(target, set()).add(caller)
        return self._callers.get(key, set())

    def function_node(self, module: str, function: facts.Function) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The function's `ast` from `def` to its last line, without its decorators; the whole module is
        parsed only for a function whose lines do not parse on their own."""
        key = (module, function.line, function.name)
        if key not in self._nodes:
            self._nodes[key] = self._parse_alone(module, function) or self._node_in_module(module, function)
        return self._nodes[key]

    def _parse_alone(self, module: str, function: facts.Function) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        source = self.source(module)
        return parse_function(source.lines, function, decorators=False) if source is not None else None

    def _node_in_module(self, module: str, function: facts.Function) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The function's node, decorators included, in the module's whole `ast` (parsed once per run)."""
        if module not in self._module_functions:
            tree = self.project.tree(module)
            self._module_functions[module] = {
                (n.lineno, n.name): n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            } if tree is not None else {}
        return self._module_functions[module].get((function.line, function.name))

    def atomic_callers(self, key: FunctionKey, seen: frozenset = frozenset()) -> str:
        """Why every call of `key` already runs in a transaction ("" when one does not, or when unsure)."""
        if key in self._atomic_callers:
            return self._atomic_callers[key]
        if key in self.tasks or key in seen:
            return ""
        callers = self.callers(key) - {key}
        reasons = []
        for caller in sorted(callers, key=lambda k: (k.module, k.qualname)):
            reason = self._caller_is_atomic(caller, key, seen | {key})
            if not reason:
                self._atomic_callers[key] = ""
                return ""
            reasons.append(reason)
        result = "; ".join(reasons) if reasons else ""
        self._atomic_callers[key] = result
        return result

    def _caller_is_atomic(self, caller: FunctionKey, callee: FunctionKey, seen: frozenset) -> str:
        function = self.project.function(caller)
        source = self.source(caller.module)
        node = self.function_node(caller.module, function) if function is not None else None
        if node is None or source is None:
            return ""
        where = f"{caller.qualname} ({self.project.display(caller.module)}:{function.line})"
        if self.decorated_atomic(function, source.imports):
            return f"{where} is decorated atomic"
        sites = [(call, atomic) for call, targets, atomic in self._call_sites(caller, node, source) if callee in targets]
        if sites and all(atomic for _, atomic in sites) and not self._decorators_call(caller, function, callee):
            return f"{where} calls it inside `with transaction.atomic()` (line {sites[0][0].lineno})"
        outer = self.atomic_callers(caller, seen)
        return f"{where}, itself only called atomically" if outer else ""

    def _call_sites(self, caller: FunctionKey, node: ast.AST, source: _Source) -> list:
        """(call, its targets, inside an atomic block) for every call in a caller, resolved once."""
        if caller not in self._sites:
            nodes, parents, _ = _breadth_first(node)
            types = local_types(nodes)
            sites = []
            for call in (n for n in nodes if isinstance(n, ast.Call)):
                reference = call_reference(call.func, types)
                targets = self.project.call_targets(caller, reference) if reference else []
                if targets:
                    sites.append((call, targets, self._inside_atomic(call, node, parents, source)))
            self._sites[caller] = sites
        return self._sites[caller]

    def _decorators_call(self, caller: FunctionKey, function: facts.Function, callee: FunctionKey) -> bool:
        """Whether a call in the caller's decorators targets `callee`: such a call site is not atomic, and
        decorators are not in the caller's own parsed lines, so this asks the module's whole `ast`."""
        node = self._node_in_module(caller.module, function)
        if node is None:
            return False
        types = local_types(ast.walk(node))
        for decorator in node.decorator_list:
            for call in _calls_in(decorator):
                reference = call_reference(call.func, types)
                if reference and callee in self.project.call_targets(caller, reference):
                    return True
        return False

    def _inside_atomic(self, call: ast.AST, function: ast.AST, parents: dict[int, ast.AST], source: _Source) -> bool:
        node = call
        while id(node) in parents and node is not function:
            node = parents[id(node)]
            if isinstance(node, (ast.With, ast.AsyncWith)) and any(
                self.is_atomic(item.context_expr, source.imports) for item in node.items
            ):
                return True
        return False


class _FunctionCheck:
    """One candidate function: its writes on the ast, the runs to wrap, and the findings."""

    def __init__(self, context: _Context, key: FunctionKey, function: facts.Function):
        self.context = context
        self.project = context.project
        self.key = key
        self.function = function
        self.display = self.project.display(key.module)
        self._avoid: dict[int, tuple[str, ...]] = {}

    @cached_property
    def walk(self) -> _ScopeWalk:
        return _ScopeWalk(self.node, self.children)

    def finding(self, line: int, message: str, status: str, risk: str = "low", plan: Plan | None = None) -> Finding:
        return Finding(NAME, self.key.module, self.display, line, risk, message, from_status(status), plan=plan)

    def run(self) -> list[Finding]:
        function = self.function
        name = f"`{function.qualname}`"
        if suppressed(NAME, function.suppressed):
            return [self.finding(function.line, f"{name} left alone: suppressed by an `# idem-fix: ignore` comment", "ok")]
        source = self.context.source(self.key.module)
        node = self.context.function_node(self.key.module, function) if source else None
        if node is None:
            return []
        self.source, self.node = source, node
        if self.context.decorated_atomic(function, source.imports):
            return [self.finding(function.line, f"{name} left alone: decorated atomic, its writes already commit together", "ok")]
        self.nodes, self.parents, self.children = _breadth_first(node)
        writes, calls = self._writes()
        atomic = [w for w in writes if self._in_atomic(w.node)]
        live = [w for w in writes if w not in atomic and not self._in_lambda_or_class(w.node)]
        by_scope: dict[int, list[_Write]] = {}
        scopes: dict[int, ast.AST] = {}
        for write in live:
            scope = self._scope_of(write.node)
            scopes[id(scope)] = scope
            by_scope.setdefault(id(scope), []).append(write)
        findings: list[Finding] = []
        planned = False
        for scope_id, scope_writes in by_scope.items():
            scope = scopes[scope_id]
            if scope is not node and any(self.context.is_atomic(d, source.imports) for d in scope.decorator_list):
                atomic += scope_writes
                continue
            groups = self._plan_block(scope.body, scope_writes, None)
            for group in groups:
                planned = True
                findings.append(self._group_finding(scope, group, calls))
        if not planned:
            first = min(writes, key=lambda w: w.effect.line) if writes else None
            if first is None:
                return []
            if atomic and len(writes) >= 2 and any(w.create for w in writes):
                inner = min(atomic, key=lambda w: w.effect.line)
                return [self.finding(inner.effect.line, f"{name} left alone: its writes already run inside `with transaction.atomic()` or an atomic function", "ok")]
            if len(live) >= 2 and any(w.create for w in live) and len(by_scope) == 1:
                lines = ", ".join(str(w.effect.line) for w in sorted(live, key=lambda w: w.effect.line))
                return [self.finding(first.effect.line, f"{name} left alone: its writes (lines {lines}) are on separate paths (if/else branches, a branch that returns): no run makes two of them", "ok")]
            return []
        fixes = [f for f in findings if f.status == "fix"]
        if fixes:
            reason = self.context.atomic_callers(self.key)
            if reason:
                note = f"{name} left alone: every caller already runs it in a transaction: {reason}"
                findings = [f for f in findings if f.status != "fix"] + [self.finding(fixes[0].line, note, "ok")]
        return findings

    # --- the writes ---------------------------------------------------------------------------

    def _writes(self) -> tuple[list[_Write], dict[tuple[int, int], tuple[facts.Effect, ast.Call]]]:
        """Every write effect matched to its ast call (by position); also the other effects' calls."""
        effect_lines = {effect.line for effect in self.function.effects}
        by_position = {}
        for child in self.nodes:
            if isinstance(child, ast.Call) and child.lineno in effect_lines:
                by_position[(child.lineno, self.source.char_column(child.lineno, child.col_offset))] = child
        new_instances = self._new_instances()
        writes, calls = [], {}
        for effect in self.function.effects:
            call = by_position.get((effect.line, effect.column))
            if call is None:
                continue
            calls[(effect.line, effect.column)] = (effect, call)
            if effect.kind not in WRITES or self._in_test(call) or self._marks_a_send(effect, call):
                continue
            create, label = self._classify(effect, new_instances)
            if create is None:
                continue
            writes.append(_Write(effect, call, frozenset(self._chain(call)), create, label))
        return writes, calls

    def _classify(self, effect: facts.Effect, new_instances: dict[str, str]) -> tuple[bool | None, str]:
        where = f"(line {effect.line})"
        if effect.kind == "db_create":
            if "." not in effect.receiver:
                symbol = self.project.resolve(self.key.module, effect.receiver) if effect.receiver else None
                if symbol is None or symbol.kind != "class" or not self.context.is_model(symbol):
                    return None, ""  # `serializer.create()`, `Factory.create()`: not an ORM manager
            elif effect.receiver.rsplit(".", 1)[-1][:1].isupper():
                return None, ""  # `models.Q.create()`, `stripe.Charge.create()`: a class method, not a manager
            else:
                owner = effect.receiver.rsplit(".", 1)[0]
                symbol = self.project.resolve(self.key.module, owner)
                if symbol.kind == "class" and not self.context.is_model(symbol) and not owner[:1].islower():
                    return None, ""
            return True, f"`{effect.call}()` {where}"
        if effect.kind == "db_save" and effect.receiver in new_instances:
            return True, f"`{effect.call}()` of a new {new_instances[effect.receiver]} {where}"
        return False, f"`{effect.call}()` {where}"

    def _in_test(self, call: ast.Call) -> bool:
        """`if not Host.objects.filter(pk=..., sent=False).update(sent=True): return` is a claim that
        guards what follows (sent-flag writes it), not a write to pair with others."""
        node = call
        while id(node) in self.parents:
            parent = self.parents[id(node)]
            if isinstance(parent, (ast.If, ast.While)) and parent.test is node:
                return True
            node = parent
        return False

    def _marks_a_send(self, effect: facts.Effect, call: ast.Call) -> bool:
        """`Host.objects.filter(pk=host.pk).update(welcome_sent=True)` as the statement right after one
        that sends is the record that the message went out (sent-flag's mark-after form): it belongs
        with the send, which no transaction can take back, not with the writes that follow. (A send
        through a project helper is not seen here.)"""
        if effect.kind != "db_update":
            return False
        while True:  # the effect's position is also the inner `filter(...)` call's: take the outermost
            attribute = self.parents.get(id(call))
            outer = self.parents.get(id(attribute)) if isinstance(attribute, ast.Attribute) else None
            if not (isinstance(outer, ast.Call) and outer.func is attribute):
                break
            call = outer
        if call.args or len(call.keywords) != 1:
            return False
        value = call.keywords[0].value
        if not (isinstance(value, ast.Constant) and value.value is True):
            return False
        statement = call
        while not isinstance(statement, ast.stmt) and id(statement) in self.parents:
            statement = self.parents[id(statement)]
        parent = self.parents.get(id(statement))
        sends = [e.line for e in self.function.effects if e.kind == "send"]
        for block in (getattr(parent, name, None) for name in ("body", "orelse", "finalbody")):
            if isinstance(block, list) and any(s is statement for s in block):
                index = next(i for i, s in enumerate(block) if s is statement)
                if index == 0:
                    return False
                before = block[index - 1]  # the send itself, or a with/for/if block that holds it
                return any(before.lineno <= line <= (before.end_lineno or before.lineno) for line in sends)
        return False

    def _new_instances(self) -> dict[str, str]:
        """Local names bound to a model constructed in the function: `entry = Entry(...)`."""
        found: dict[str, str] = {}
        for child in self.nodes:
            if not isinstance(child, ast.Assign) or not isinstance(child.value, ast.Call):
                continue
            callee = dotted(child.value.func) or ""
            if not callee or not callee.rsplit(".", 1)[-1][:1].isupper():
                continue
            symbol = self.project.resolve(self.key.module, callee)
            if symbol.kind == "class" and not self.context.is_model(symbol):
                continue
            if symbol.kind in {"function", "module", "app"}:
                continue
            for target in child.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = callee.rsplit(".", 1)[-1]
        return found

    def _chain(self, node: ast.AST) -> list[int]:
        chain = [id(node)]
        while id(node) in self.parents:
            node = self.parents[id(node)]
            chain.append(id(node))
        return chain

    def _ancestors(self, node: ast.AST):
        while id(node) in self.parents and node is not self.node:
            node = self.parents[id(node)]
            yield node

    def _in_atomic(self, node: ast.AST) -> bool:
        return any(
            isinstance(a, (ast.With, ast.AsyncWith)) and any(self.context.is_atomic(i.context_expr, self.source.imports) for i in a.items)
            for a in self._ancestors(node)
        )

    def _in_lambda_or_class(self, node: ast.AST) -> bool:
        for ancestor in self._ancestors(node):
            if isinstance(ancestor, (ast.Lambda, ast.ClassDef)):
                return True
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return False
        return False

    def _scope_of(self, node: ast.AST) -> ast.AST:
        for ancestor in self._ancestors(node):
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return ancestor
        return self.node

    # --- the runs -----------------------------------------------------------------------------

    def _holding(self, stmt: ast.AST, writes: list[_Write]) -> list[_Write]:
        return [w for w in writes if id(stmt) in w.chain]

    def _plan_block(self, block: list[ast.stmt], writes: list[_Write], loop: ast.stmt | None) -> list[_Group]:
        """The runs to wrap in one block: the smallest run over the statements whose writes can happen
        in one pass; a statement alone holding writes is looked into."""
        holding = [(k, self._holding(s, writes)) for k, s in enumerate(block)]
        holding = [(k, ws) for k, ws in holding if ws]
        groups: list[_Group] = []
        segment: list[tuple[int, list[_Write]]] = []
        for k, ws in holding:
            if not segment and _terminal(block[k], ws, self):
                groups += self._segment(block, [(k, ws)], loop)  # its writes never reach the next statement
                continue
            segment.append((k, ws))
        return groups + self._segment(block, segment, loop)

    def _segment(self, block, segment, loop) -> list[_Group]:
        if not segment:
            return []
        if len(segment) >= 2:
            first, last = segment[0][0], segment[-1][0]
            ws = [w for _, group in segment for w in group]
            if not any(w.create for w in ws):
                return []
            while first > 0 and block[first - 1].lineno == block[first].lineno:
                first -= 1  # statements sharing a line (`a = 1; b.save()`) move together
            return [_Group(block, first, last, ws, loop)]
        k, ws = segment[0]
        return self._within(block, k, ws, loop)

    def _within(self, block: list[ast.stmt], k: int, ws: list[_Write], loop) -> list[_Group]:
        stmt = block[k]
        whole = [_Group(block, k, k, ws, loop)] if len(ws) >= 2 and any(w.create for w in ws) else []
        parts = [(label, sub, self._holding_block(sub, ws)) for label, sub in _sub_blocks(stmt)]
        if not parts:
            return whole  # a simple statement with two writes in it
        in_parts = {id(w) for _, _, pws in parts for w in pws}
        if any(id(w) not in in_parts for w in ws):
            return whole  # a write in the statement's header (`for x in M.objects.bulk_create(...)`)
        busy = [(label, sub, pws) for label, sub, pws in parts if pws]
        exclusive = isinstance(stmt, (ast.If, ast.Match)) or all(label == "handler" for label, _, _ in busy)
        if len(busy) >= 2 and not exclusive:
            return whole  # try body and finally, loop body and else: they run in one pass
        groups: list[_Group] = []
        for label, sub, pws in busy:
            inner_loop = stmt if isinstance(stmt, LOOPS) and label == "body" else loop
            groups += self._plan_block(sub, pws, inner_loop)
        if groups and isinstance(stmt, LOOPS) and self.context.whole_loops:
            group = _Group(block, k, k, ws, loop)
            group.whole_loop = True
            return [group]
        return groups

    def _holding_block(self, block: list[ast.stmt], ws: list[_Write]) -> list[_Write]:
        ids = {id(s) for s in block}
        return [w for w in ws if ids & w.chain]

    # --- one finding per run ------------------------------------------------------------------

    def _group_finding(self, scope: ast.AST, group: _Group, calls) -> Finding:
        run = group.block[group.first : group.last + 1]
        first, last = run[0], run[-1]
        end = last.end_lineno or last.lineno
        writes = sorted(group.writes, key=lambda w: (w.effect.line, w.effect.column))
        models = [w.effect.receiver for w in writes]
        risk = "high" if money_risk(*models, self.function.qualname) else "moderate"
        labels = [w.label for w in writes]
        listed = f"{', '.join(labels[:-1])} and {labels[-1]}" if len(labels) > 1 else labels[0]
        span = f"lines {first.lineno}-{end}" if end != first.lineno else f"line {first.lineno}"
        if writes[0].create:
            again = "creates the first row again"
        else:
            again = "repeats the writes on top of the half-done work"
        what = f"{listed} commit one by one"

        def report(message: str, status: str, plan: Plan | None = None) -> Finding:
            return self.finding(first.lineno, message, status, risk, plan)

        lead = f"{what}: a worker that dies between them leaves half the work in the database, and the redelivered task {again}"
        marks = set()
        for w in writes:
            marks |= self._suppressed_at(w)
        if suppressed(NAME, frozenset(marks)):
            return report(f"{what}; left alone: suppressed by an `# idem-fix: ignore` comment", "ok")
        if isinstance(scope, ast.AsyncFunctionDef):
            return report(
                f"{lead}. Not rewritten: `async def` {scope.name} cannot use transaction.atomic() (Django's "
                "transactions are synchronous); move these writes into a sync function decorated "
                "@transaction.atomic and call it through sync_to_async",
                "manual",
            )
        block_ok = self.source.starts_line(group.block[0])
        if not block_ok:
            return report(f"{lead}. Not rewritten: the writes share a one-line block; put its statements on their own lines", "manual")
        problem = self._range_problem(run, group.writes)
        if problem:
            return report(f"{lead}. Not rewritten: {problem}", "manual")
        message = f"{lead} -> {span} wrapped in `with transaction.atomic():`"
        notes = []
        if group.whole_loop:
            notes.append(
                f"the whole loop (line {first.lineno}) commits at once, as loops = \"whole\" asks: a crash in a later pass "
                "also rolls back the earlier ones"
            )
        else:
            inner = [n for s in run for n in self.walk.subtree(s) if isinstance(n, LOOPS) and any(id(n) in w.chain for w in writes)]
            if inner:
                message_loop = min(inner, key=lambda n: n.lineno)
                notes.append(
                    f"the loop at line {message_loop.lineno} is inside the range: the whole loop commits together with the "
                    "writes around it"
                )
        if group.loop is not None:
            notes.append(
                f"per iteration: each pass of the loop at line {group.loop.lineno} commits on its own, so a crash keeps the "
                "passes before it (make those idempotent too, or set loops = \"whole\" under "
                "[tool.idem-fix.atomic-multi-create] to commit the whole loop at once)"
            )
        outside = self._outside_effects(run, calls)
        if outside:
            notes.append(outside)
        if notes:
            message += "; " + "; ".join(notes)
        plan = Plan(
            line=first.lineno,
            column=self.source.char_column(first.lineno, first.col_offset),
            end_line=last.lineno,
            avoid=self._avoid_for(scope),
            local=self._local_atomic(scope, first.lineno),
        )
        return report(message, "fix", plan)

    def _suppressed_at(self, write: _Write) -> frozenset[str]:
        statement = write.effect.statement
        lines = set(range(statement, write.effect.end_line + 1))
        previous = self.source.lines[statement - 2] if statement >= 2 else ""
        if previous.lstrip().startswith("#"):
            lines.add(statement - 1)
        found: set[str] = set()
        for line in lines:
            found |= self.source.suppressions.get(line, frozenset())
        return frozenset(found)

    def _range_problem(self, run: list[ast.stmt], writes: list[_Write]) -> str:
        for stmt in run:
            for node in self.walk.subtree(stmt):
                if not isinstance(node, RANGE_PROBLEMS):
                    continue
                if isinstance(node, (ast.Yield, ast.YieldFrom)):
                    return (
                        f"the range yields (line {node.lineno}): a generator would hold the transaction open between "
                        "items; collect the writes in a plain function and wrap that"
                    )
                if isinstance(node, TRIES):
                    body_ids = {id(s) for s in node.body}
                    guarded = [w for w in writes if body_ids & w.chain]
                    caught = [h for h in node.handlers if _catches_db_error(h)]
                    if guarded and caught:
                        handler = caught[0]
                        what = f"except {ast.unparse(handler.type)}" if handler.type is not None else "a bare except"
                        return (
                            f"`{what}` (line {handler.lineno}) catches a database error inside the range, and after a "
                            "database error the transaction refuses every query until the end of the atomic block; "
                            f"give the try body (line {node.lineno}) its own `with transaction.atomic():` first"
                        )
        return ""

    def _outside_effects(self, run: list[ast.stmt], calls) -> str:
        ids = {id(s) for s in run}
        undo, later = [], []
        for (line, _), (effect, call) in sorted(calls.items()):
            if effect.kind not in OUTSIDE or not (ids & set(self._chain(call))):
                continue
            where = f"`{effect.call}()` (line {line})"
            (later if effect.kind == "fanout" else undo).append(where)
        parts = []
        if undo:
            parts.append(
                f"the transaction cannot undo {', '.join(undo)}: if a later write fails, "
                f"{'it has' if len(undo) == 1 else 'they have'} already happened"
            )
        if later:
            parts.append(
                f"{', '.join(later)} now {'runs' if len(later) == 1 else 'run'} before the commit, so the new task may not "
                "see these rows, or run for rows a rollback removed: it belongs in "
                "`transaction.on_commit(lambda: ...)`"
            )
        return "; ".join(parts)

    def _avoid_for(self, scope: ast.AST) -> tuple[str, ...]:
        if id(scope) not in self._avoid:
            self._avoid[id(scope)] = tuple(sorted(self._bound_names(scope)))
        return self._avoid[id(scope)]

    def _bound_names(self, scope: ast.AST) -> set[str]:
        """Names bound in `scope` and in the functions around it: the atomic callee must not be one."""
        names: set[str] = set()
        node: ast.AST | None = scope
        while node is not None:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                names |= _local_bindings(node, self.walk)
            if node is self.node:
                break
            node = self.parents.get(id(node))
        return names

    def _local_atomic(self, scope: ast.AST, before_line: int) -> str:
        """`transaction.atomic` when the function itself imports django's transaction above the range."""
        node: ast.AST | None = scope
        while node is not None:
            for child in self.walk.inside(node):
                if isinstance(child, ast.ImportFrom) and child.lineno < before_line and not child.level:
                    for alias in child.names:
                        local = alias.asname or alias.name
                        if child.module == "django.db" and alias.name == "transaction":
                            return f"{local}.atomic"
                        if child.module == "django.db.transaction" and alias.name == "atomic":
                            return local
            if node is self.node:
                break
            node = self.parents.get(id(node))
        return ""


class _Wrap(PositionedTransformer):
    """Moves each planned run of statements into the body of a new `with <atomic>():` in its block."""

    def __init__(self, callees: dict[Plan, str]):
        super().__init__()
        self.callees = callees
        self.plans = {(p.line, p.column): p for p in callees}
        self.applied: list[Plan] = []

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        starts = [self.start_of(statement) for statement in original.body]
        found = [(index, self.plans[start]) for index, start in enumerate(starts) if start in self.plans]
        if not found:
            return updated
        body = list(updated.body)
        for index, plan in sorted(found, key=lambda item: item[0], reverse=True):
            last = index
            while last + 1 < len(starts) and starts[last + 1][0] <= plan.end_line:
                last += 1
            body[index : last + 1] = [self._with(body[index : last + 1], self.callees[plan], updated.indent)]
            self.applied.append(plan)
        return updated.with_changes(body=body)

    @staticmethod
    def _with(statements: list[cst.BaseStatement], callee: str, indent: str | None) -> cst.With:
        first = statements[0]
        lines = list(first.leading_lines)
        split = len(lines)
        while split > 0 and lines[split - 1].comment is not None:
            split -= 1  # the comment lines right above the first statement belong to it and move with it
        moved = [first.with_changes(leading_lines=lines[split:]), *statements[1:]]
        return cst.With(
            items=[cst.WithItem(cst.parse_expression(f"{callee}()"))],
            body=cst.IndentedBlock(body=moved, indent=indent),
            leading_lines=lines[:split],
        )


# --- ast helpers ------------------------------------------------------------------------------


def _breadth_first(root: ast.AST) -> tuple[list[ast.AST], dict[int, ast.AST], dict[int, list[ast.AST]]]:
    """Every node under `root` in `ast.walk` order, each one's parent and each one's children (by id)."""
    nodes = [root]
    parents: dict[int, ast.AST] = {}
    children: dict[int, list[ast.AST]] = {}
    for parent in nodes:  # grows while it is read: breadth first
        children[id(parent)] = below = child_nodes(parent)
        for child in below:
            parents[id(child)] = parent
        nodes.extend(below)
    return nodes, parents, children


def _walk_scope(node: ast.AST):
    """Every node under `node` that runs in its scope: not inside nested functions, lambdas or classes."""
    pending = child_nodes(node)
    while pending:
        child = pending.pop()
        yield child
        if not isinstance(child, SCOPES):
            pending.extend(child_nodes(child))


class _ScopeWalk:
    """`_walk_scope` of a function, walked once: the walk of any node it descends into is a slice of it.
    Nodes without a slice (leaves, nested scopes and what is in them) are walked on their own."""

    def __init__(self, root: ast.AST, children: dict[int, list[ast.AST]]):
        self.root = root
        self.order: list[ast.AST] = []
        self.spans: dict[int, tuple[int, int]] = {}  # id(node) -> (start, end): its `_walk_scope` is order[start:end]
        pending: list = list(children[id(root)])
        while pending:
            item = pending.pop()
            if isinstance(item, tuple):  # (node, start): every node under it is in order now
                node, start = item
                self.spans[id(node)] = (start, len(self.order))
                continue
            self.order.append(item)
            below = children[id(item)]
            if below and not isinstance(item, SCOPES):
                pending.append((item, len(self.order)))
                pending.extend(below)

    def inside(self, node: ast.AST) -> list[ast.AST]:
        """`_walk_scope(node)`."""
        if node is self.root:
            return self.order
        span = self.spans.get(id(node))
        return self.order[span[0] : span[1]] if span else list(_walk_scope(node))

    def subtree(self, node: ast.AST) -> list[ast.AST]:
        """`node`, then `_walk_scope(node)`."""
        span = self.spans.get(id(node))
        return self.order[span[0] - 1 : span[1]] if span else [node, *_walk_scope(node)]


def _calls_in(node: ast.AST) -> list[ast.Call]:
    return [child for child in ast.walk(node) if isinstance(child, ast.Call)]


def _sub_blocks(stmt: ast.stmt) -> list[tuple[str, list[ast.stmt]]]:
    if isinstance(stmt, (ast.If, *LOOPS)):
        blocks = [("body", stmt.body), ("orelse", stmt.orelse)]
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        blocks = [("body", stmt.body)]
    elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
        blocks = [("body", stmt.body), *(("handler", h.body) for h in stmt.handlers), ("orelse", stmt.orelse), ("finalbody", stmt.finalbody)]
    elif isinstance(stmt, ast.Match):
        blocks = [("case", case.body) for case in stmt.cases]
    else:
        blocks = []
    return [(label, block) for label, block in blocks if block]


def _terminal(stmt: ast.stmt, ws: list[_Write], check: _FunctionCheck) -> bool:
    """Its writes never reach the next statement: `return M.objects.create()`, or every branch that
    writes ends in return / raise / continue / break."""
    if isinstance(stmt, (ast.Return, ast.Raise)):
        return True
    if not isinstance(stmt, ast.If):
        return False
    busy = [sub for _, sub in _sub_blocks(stmt) if check._holding_block(sub, ws)]
    covered = {id(w) for sub in busy for w in check._holding_block(sub, ws)}
    return bool(busy) and all(id(w) in covered for w in ws) and all(isinstance(sub[-1], EXITS) for sub in busy)


def _catches_db_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any((dotted(n) or "").rsplit(".", 1)[-1] in DB_ERRORS for n in names)


def _local_bindings(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, walk: _ScopeWalk) -> set[str]:
    """Names a function binds locally: parameters, assignments, loop and with targets, imports, defs."""
    names: set[str] = set()
    arguments = function.args
    for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]:
        if arg is not None:
            names.add(arg.arg)
    body = function.body if isinstance(function.body, list) else [function.body]
    declared_global: set[str] = set()
    for stmt in body:
        for node in walk.subtree(stmt):
            if not isinstance(node, BINDINGS):
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    names.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, ast.ExceptHandler) and node.name:
                names.add(node.name)
            elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
                names.add(node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                names.add(node.rest)
            elif isinstance(node, ast.Global):
                declared_global |= set(node.names)
    return names - declared_global


rule = AtomicMultiCreate(
    name=NAME,
    summary='Two or more writes in task code, one a create, not in a transaction -> wrap them in transaction.atomic()',
    applicabilities=(Applicability.UNSAFE, Applicability.MANUAL),
    readme=Path(__file__).with_name("README.md"),
)
