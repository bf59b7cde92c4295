"""One module's source -> `facts.Module`, with the stdlib `ast` (fast; libcst is kept for rewriting).

The summary records what later stages need and nothing else: imports, functions with their calls and
ORM creates (already classified: literal / volatile / loop-bound kwargs, guards, suppressions), classes
with Django model fields and constraints, Celery apps and task registrations.
"""

from __future__ import annotations

import ast
import builtins
import re

from . import celery_settings, effects, facts, newer_syntax
from .names import call_reference, dotted, row_types
from .source import SourceText, decode, one_line, suppressions
from .values import RUN_TIME, VALUE_TRANSFORMS, VOLATILE_CALLS, VOLATILE_MODULES
from .summarize_creates import LOOPS, CreateFacts, is_atomic, names_in
from .summarize_models import ModelFacts
from .walk import CHILD_FIELDS, child_nodes

TASK_DECORATOR_NAMES = frozenset({"shared_task", "task", "periodic_task"})
# Queries whose keywords name the fields that find a row: how the project itself identifies a model's rows.
LOOKUP_METHODS = frozenset({"filter", "get", "aget", "get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create"})
# Chained queryset calls between a manager and a lookup: `Payout.objects.select_related("a").filter(...)`.
CHAIN_METHODS = frozenset({"select_related", "prefetch_related", "using", "all", "only", "defer", "order_by", "select_for_update", "filter", "exclude", "db_manager"})
MODEL_SIGNALS = frozenset({"pre_save", "post_save", "pre_delete", "post_delete", "m2m_changed"})


def summarize(source: bytes, path: str, module_name: str, is_package: bool) -> facts.Module:
    """Raises SyntaxError (with lineno) or ValueError for source that does not parse; a file written for a
    newer Python is read through `newer_syntax` (NewerSyntax when even that fails)."""
    tree, lowered = newer_syntax.parse(source, filename=path)
    text = lowered if lowered is not None else decode(source)
    return _Summarizer(tree, text, path, module_name, is_package).run()


class _Summarizer(ModelFacts):
    def __init__(self, tree: ast.Module, text: str, path: str, module_name: str, is_package: bool):
        self.tree = tree
        self.used_names: set[str] = set()  # every name the module reads or binds (see `_free_name`)
        self.function_walks: dict[ast.AST, _Walk] = {}  # for functions outside functions
        self.import_count = 0  # import statements anywhere in the module
        self._walk_module(tree)
        self.text = text
        self.source = SourceText(text)
        self.path = path
        self.module_name = module_name
        self.is_package = is_package
        self.suppressions = suppressions(text)
        self.plugin_loop_names = _plugin_loop_names(text)  # `x` of `for x in PLUGINS:` anywhere in the module
        self.defers = "on_commit" in text  # work handed to on_commit runs after the commit (see `_deferred`)
        self.imports: dict[str, str] = {}
        self.star_imports: list[str] = []
        self.imported_modules: list[str] = []
        self.signal_connections: list[tuple[str, str, str]] = []

    def _walk_module(self, tree: ast.Module) -> None:
        """Every node once: the module outside functions, then each function's own walk, which its
        analysis reuses (one pass over each node, not one per question asked of it)."""
        outside = _Walk(tree, self.used_names, enter_functions=False)
        for function in outside.functions:
            self.function_walks[function] = _Walk(function, self.used_names)
        self.import_count = outside.import_count + sum(w.import_count for w in self.function_walks.values())

    def run(self) -> facts.Module:
        functions: dict[str, facts.Function] = {}
        classes: dict[str, facts.Class] = {}
        celery_apps: list[str] = []
        registrations: list[tuple[str, str]] = []
        decorator_aliases: dict[str, facts.Decorator] = {}
        for node in self._imports_in_walk_order():  # a later import of a name wins: keep ast.walk's order
            self._record_import(node)
        statements = list(self._module_statements(self.tree.body))
        self.instances = _instances(statements, self.imports)
        settings, config_sources = (
            celery_settings.collect(self.tree.body, self.segment) if any(m in self.text for m in celery_settings.TEXT_MARKERS) else ([], [])
        )
        for stmt in statements:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions[stmt.name] = self._function(stmt, stmt.name)
            elif isinstance(stmt, ast.ClassDef):
                classes[stmt.name] = self._class(stmt)
            elif isinstance(stmt, (ast.Assign, ast.Expr)):
                value = stmt.value
                aliased = _decorator_alias(value) if isinstance(stmt, ast.Assign) else None
                if aliased:
                    decorator_aliases.update((t.id, aliased) for t in stmt.targets if isinstance(t, ast.Name))
                if isinstance(value, ast.Call):
                    callee = dotted(value.func) or ""
                    if callee.rsplit(".", 1)[-1] == "Celery" and isinstance(stmt, ast.Assign):
                        celery_apps += [t.id for t in stmt.targets if isinstance(t, ast.Name)]
                    registered = self._registration(value, callee)
                    if registered:
                        registrations.append((callee, registered))
                    self.note_signal_connection(value)
        return facts.Module(
            path=self.path,
            name=self.module_name,
            is_package=self.is_package,
            imports=self.imports,
            star_imports=self.star_imports,
            functions=functions,
            classes=classes,
            celery_apps=celery_apps,
            registrations=registrations,
            throwaway=self._free_name(),
            imported_modules=self.imported_modules,
            settings=settings,
            config_sources=config_sources,
            suppressions=self.suppressions,
            signal_connections=self.signal_connections,
            decorator_aliases=decorator_aliases,
        )

    # --- module level -------------------------------------------------------------------------

    def _module_statements(self, body):
        """Top-level statements, looking inside `if settings.X:`, try and with blocks."""
        for stmt in body:
            if isinstance(stmt, ast.If):
                yield from self._module_statements(stmt.body)
                yield from self._module_statements(stmt.orelse)
            elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
                yield from self._module_statements(stmt.body)
                for handler in stmt.handlers:
                    yield from self._module_statements(handler.body)
                yield from self._module_statements(stmt.orelse)
                yield from self._module_statements(stmt.finalbody)
            elif isinstance(stmt, ast.With):
                yield from self._module_statements(stmt.body)
            else:
                yield stmt

    def _imports_in_walk_order(self) -> list[ast.Import | ast.ImportFrom]:
        """When every import is a top-level statement (the usual case), `ast.walk` meets them in the
        order of the module's body; else walk the statements."""
        imports = [stmt for stmt in self.tree.body if stmt.__class__ in _IMPORT_TYPES]
        if len(imports) == self.import_count:
            return imports
        return [node for node in _statements_in_walk_order(self.tree) if node.__class__ in _IMPORT_TYPES]

    def _resolve_relative(self, module: str | None, level: int) -> str:
        if not level:
            return module or ""
        package = self.module_name if self.is_package else self.module_name.rpartition(".")[0]
        for _ in range(level - 1):
            package = package.rpartition(".")[0]
        return f"{package}.{module}" if module and package else (module or package)

    def _record_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.imports[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    self.imports.setdefault(root, root)
                self.imported_modules.append(alias.name)
            return
        base = self._resolve_relative(node.module, node.level)
        self.imported_modules.append(base)
        for alias in node.names:
            if alias.name == "*":
                self.star_imports.append(base)
                continue
            target = f"{base}.{alias.name}" if base else alias.name
            self.imports[alias.asname or alias.name] = target
            self.imported_modules.append(target)

    def _registration(self, call: ast.Call, callee: str) -> str | None:
        """`app.task(fn)`, `shared_task(fn)`, `app.register_task(SyncTask())` at module level."""
        last = callee.rsplit(".", 1)[-1]
        if last not in {"task", "shared_task", "register_task"} or len(call.args) != 1:
            return None
        arg = call.args[0]
        if isinstance(arg, ast.Call):
            arg = arg.func
        return dotted(arg)

    def note_signal_connection(self, call: ast.Call) -> None:
        """`post_save.connect(handler, sender=Order)`: a handler Django runs on every save of an Order."""
        func = call.func
        if func.__class__ is not ast.Attribute or func.attr != "connect" or not call.args:
            return
        signal = dotted(func.value) or ""
        if signal.rsplit(".", 1)[-1] not in MODEL_SIGNALS:
            return
        handler = dotted(call.args[0]) or ""
        sender = next((dotted(k.value) or "" for k in call.keywords if k.arg == "sender"), "")
        if len(call.args) > 1 and not sender:
            sender = dotted(call.args[1]) or ""
        if handler:
            self.signal_connections.append((signal, handler, sender))

    def _free_name(self) -> str:
        """`_` unless the module gives it a meaning (gettext); a name assigned and never read is free."""
        used = self.used_names.union(self.imports)
        for candidate in ("_", "_created", "created"):
            if candidate not in used:
                return candidate
        number = 2
        while f"_created{number}" in used:
            number += 1
        return f"_created{number}"

    # --- functions ----------------------------------------------------------------------------

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> facts.Function:
        analysis = _FunctionAnalysis(node, self)
        decorators = node.decorator_list
        return facts.Function(
            name=node.name,
            qualname=qualname,
            line=node.lineno,
            end_line=node.end_lineno or node.lineno,
            decorators=[d for d in map(_decorator, decorators) if d],
            calls=analysis.calls,
            refs=analysis.refs,
            creates=analysis.creates,
            effects=analysis.effects,
            atomic=any(map(is_atomic, decorators)),
            is_async=isinstance(node, ast.AsyncFunctionDef),
            suppressed=self.suppressions.get(node.lineno, frozenset()) | self.suppressions.get(0, frozenset()),
            first_line=min([d.lineno for d in decorators] + [node.lineno]),
            lookups=analysis.lookups,
            unfollowed=analysis.unfollowed,
            countdowns=analysis.countdowns,
            deferred_calls=analysis.deferred_calls,
        )

    def segment(self, node: ast.AST) -> str:
        return self.source.segment(node)

    def char_column(self, line: int, byte_offset: int) -> int:
        return self.source.char_column(line, byte_offset)

    def comment_only(self, line: int) -> bool:
        return self.source.comment_only(line)


def _instances(statements, imports: dict[str, str]) -> dict[str, str]:
    """Module-level names bound to what a call returns, when the callee is a class or comes from an import:
    `client = OpenAI()`, `r = redis.Redis.from_url(URL)` -> the callee as written (to place their calls)."""
    found: dict[str, str] = {}
    for statement in statements:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
            callee = dotted(statement.value.func) or ""
            if callee and (callee.split(".")[0] in imports or callee.rsplit(".", 1)[-1][:1].isupper()):
                found.update((t.id, callee) for t in statement.targets if isinstance(t, ast.Name))
    return found


def _decorator(node: ast.expr) -> facts.Decorator | None:
    call = node if isinstance(node, ast.Call) else None
    target = dotted(call.func if call else node)
    if not target:
        return None
    options: dict[str, object] = {}
    references: dict[str, str] = {}
    arguments: tuple[str, ...] = ()
    if call:
        for keyword in call.keywords:
            if keyword.arg and isinstance(keyword.value, ast.Constant):
                options[keyword.arg] = keyword.value.value
            elif keyword.arg in {"time_limit", "soft_time_limit"} and isinstance(keyword.value, ast.BinOp):
                options[keyword.arg] = celery_settings.seconds(keyword.value)  # time_limit=2 * 60 * 60
            elif keyword.arg:
                name = dotted(keyword.value)
                if name:
                    references[keyword.arg] = name
        arguments = tuple(name for name in map(dotted, call.args) if name)
    return facts.Decorator(
        target=target, called=call is not None, options=options, arguments=arguments, references=references,
        keywords=tuple(k.arg for k in call.keywords if k.arg) if call else (),
    )


def _lookup(call: ast.Call, then: str) -> facts.Lookup | None:
    """`Payout.objects.select_related("a").filter(account=a, period=p)`: the model's receiver, its manager
    and the fields the query names (the caller checked that the method is a lookup); `then`, the method
    called on the query's result (`first`, `exists`), tells a search for one row from a listing."""
    fields = tuple(sorted(k.arg for k in call.keywords if k.arg and k.arg != "defaults"))
    if not fields:
        return None
    node = call.func.value
    while node.__class__ is ast.Call and node.func.__class__ is ast.Attribute and node.func.attr in CHAIN_METHODS:
        node = node.func.value
    if node.__class__ is not ast.Attribute:
        return None
    receiver = dotted(node.value)
    if not receiver:
        return None
    method = f"{call.func.attr}.{then}" if then else call.func.attr
    return facts.Lookup(call.lineno, receiver, node.attr, method, fields)


def _decorator_alias(value: ast.AST) -> facts.Decorator | None:
    """The task-like decorator a module-level value is, calls or partially applies (`shared_task`,
    `app.task(bind=True)`, `partial(shared_task, acks_late=True)`), with its options; None for anything else."""
    if isinstance(value, ast.Call) and (dotted(value.func) or "").rsplit(".", 1)[-1] == "partial" and value.args:
        value = ast.Call(func=value.args[0], args=[], keywords=value.keywords)
    target = dotted(value.func if isinstance(value, ast.Call) else value) or ""
    return _decorator(value) if "task" in target.rsplit(".", 1)[-1].lower() else None  # most assignments are not


def _on_commit(call: ast.Call) -> bool:
    """`transaction.on_commit(...)`, `connection.on_commit(...)`, `on_commit(...)`."""
    func = call.func
    return (func.attr if func.__class__ is ast.Attribute else func.id if func.__class__ is ast.Name else "") == "on_commit"


def _skips_conflicts(call: ast.Call) -> bool:
    """`bulk_create(rows, ignore_conflicts=True)` (or `update_conflicts=True`): rows a unique constraint
    already holds are skipped (or updated), not added again."""
    return isinstance(call.func, ast.Attribute) and call.func.attr in {"bulk_create", "abulk_create"} and any(
        k.arg in {"ignore_conflicts", "update_conflicts"} and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in call.keywords
    )


def _a_select(call: ast.Call) -> bool:
    """`cursor.execute("SELECT ...")`: a query written out that only reads."""
    sql = call.args[0] if call.args else None
    if sql.__class__ is ast.JoinedStr:
        sql = next((v for v in sql.values if v.__class__ is ast.Constant), None)
    return sql.__class__ is ast.Constant and isinstance(sql.value, str) and sql.value.lstrip(" \n\t(").lower().startswith("select")


def _counted_up(call: ast.Call) -> str:
    """ "increment" for `.update(sent=F("sent") + 1)`: a redelivery counts again."""
    for keyword in call.keywords:
        value = keyword.value
        if value.__class__ is ast.BinOp and any(
            part.__class__ is ast.Call and (dotted(part.func) or "").rsplit(".", 1)[-1] == "F" for part in (value.left, value.right)
        ):
            return "increment"
    return ""


def _assignments(nodes: list[ast.AST]) -> list[tuple[list[ast.expr], ast.expr]]:
    """(targets, value) of each assignment that has a value."""
    found = []
    for node in nodes:
        if node.__class__ is ast.Assign:
            found.append((node.targets, node.value))
        elif node.__class__ in _FOR_TYPES:
            continue
        elif node.value is not None:  # AnnAssign, AugAssign, NamedExpr
            found.append(([node.target], node.value))
    return found


class _StatementFields(dict):
    """Node type -> its fields that hold statements (with except and case clauses), in `_fields` order;
    filled on first use. Simple statements have none, and most statements are simple."""

    def __missing__(self, kind: type) -> tuple[str, ...]:
        holders = ("body", "handlers", "orelse", "finalbody", "cases")
        fields = self[kind] = tuple(name for name in kind._fields if name in holders)
        return fields


_STATEMENT_FIELDS = _StatementFields()


def _statements_in_walk_order(tree: ast.Module) -> list[ast.AST]:
    """The module's statements (with except and case clauses) in `ast.walk`'s order. Statements only
    sit in these fields, so a breadth-first walk through them alone keeps each statement's depth and
    its place among the others, for a fraction of the nodes."""
    order: list[ast.AST] = [tree]
    statement_fields = _STATEMENT_FIELDS
    for node in order:  # grows while it is read
        for name in statement_fields[node.__class__]:
            value = getattr(node, name, None)
            if value.__class__ is list:
                order += value
    return order


_FUNCTION_TYPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef})
_DEFINITION_TYPES = _FUNCTION_TYPES | {ast.ClassDef}
_ASSIGNMENT_TYPES = frozenset({ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr})
_IMPORT_TYPES = frozenset({ast.Import, ast.ImportFrom})
_FOR_TYPES = frozenset({ast.For, ast.AsyncFor})
_PLACED_TYPES = _ASSIGNMENT_TYPES | _FOR_TYPES  # kept by the walk, see `_Walk.assignments()`
# `async_to_sync(send)(...)` runs `send`: a wrapper, not an unknown target
_BUILTINS = frozenset(dir(builtins))
_COUNTDOWN_CALLS = frozenset({"apply_async", "retry", "set", "signature", "s", "si"})
_ROLLED_BACK = re.compile(r"roll(ed)?_?back", re.IGNORECASE)
_MADE_AT_RANDOM = re.compile(r"(^|_)(random|uuid\d?|nonce)(_|$)")  # `_generate_random_file_name(...)`
_RAW_SQL = frozenset({"execute", "executemany", "callproc", "execute_values"})
_RETURNS_A_CLASS = ("model", "class", "cls", "type")  # `model = table.get_model(); model(...)` builds a row
_LOOKUPS_BY_NAME = frozenset({"getattr", "import_module", "import_string", "locate", "import_class"})
_WRAPS_ITS_ARGUMENT = frozenset({"async_to_sync", "sync_to_async", "partial", "wraps"})
PASSED_IN = "is a callable passed in"  # the reason given for a call of a parameter (see assess)
_FOR_IN = re.compile(r"for\s+(\w+)\s+in\s+([\w.]+)")


def _plugin_loop_names(text: str) -> frozenset[str]:
    """Loop variables over a constant or a setting (`for hook in HOOKS:`, `in settings.PLUGINS:`), by a
    text search: a call on one of them is then checked against the loop around it."""
    if "for " not in text:
        return frozenset()
    return frozenset(
        name for name, iterable in _FOR_IN.findall(text)
        if iterable.startswith("settings.") or (len(last := iterable.rsplit(".", 1)[-1]) > 1 and last.isupper())
    )


_CREATE_METHODS = frozenset({"create", "acreate"})



def _note_name(name: ast.Name, used: set[str]) -> None:
    """A name read or bound is taken, except `_` as an assignment target (a throwaway already)."""
    if name.id != "_" or name.ctx.__class__ is not ast.Store:
        used.add(name.id)


class _Walk:
    """One pass over the nodes under a function (nested defs included), keeping what its analysis asks
    about:

    - `parents`: the parent of each node but names and constants (leaves), for the ancestors of a
      call (loops, try blocks, `with atomic()`);
    - `body_hits`: the body's calls and possible task-decorator names, statement by statement, each
      statement's in `ast.walk` order;
    - the assignment and for-loop nodes, see `assignments()`;
    - `import_count`: how many import statements it met;
    and it adds the names it meets to `used_names` (see `_Summarizer._free_name`). With
    `enter_functions=False` (the module's walk), the functions it meets are listed in `functions`
    instead of walked.

    Each child of the root (arguments, each body statement, decorators, return annotation) is walked
    breadth first on its own. Names are noted as they are found and constants skipped, not queued:
    they are half the nodes."""

    __slots__ = ("root", "parents", "body_hits", "functions", "import_count", "_assignments")

    def __init__(self, root: ast.AST, used_names: set[str], enter_functions: bool = True):
        parents: dict[ast.AST, ast.AST] = {}
        body_hits: list[ast.AST] = []
        placed: list[tuple[int, ast.AST]] = []  # (child of the root, assignment)
        functions: list[ast.AST] = []
        import_count = 0
        body = {id(statement) for statement in root.body}
        node_type, name_type, constant_type, store_type = ast.AST, ast.Name, ast.Constant, ast.Store
        call_type, attribute_type, arg_type, class_type = ast.Call, ast.Attribute, ast.arg, ast.ClassDef
        fields_of = CHILD_FIELDS
        for index, start in enumerate(child_nodes(root)):
            parents[start] = root
            hits = body_hits if id(start) in body else []  # calls in decorators and defaults are not the body's
            pending = [start]
            for node in pending:  # grows while it is read
                kind = node.__class__
                if kind is call_type:
                    hits.append(node)
                elif kind is attribute_type:
                    if node.attr in TASK_DECORATOR_NAMES:
                        hits.append(node)
                elif kind is name_type:  # only a child of the root, or a possible hit, is queued
                    if node.id in TASK_DECORATOR_NAMES:
                        hits.append(node)
                    _note_name(node, used_names)
                    continue
                elif kind is arg_type:
                    used_names.add(node.arg)
                elif kind in _PLACED_TYPES:
                    placed.append((index, node))
                elif kind in _DEFINITION_TYPES:
                    used_names.add(node.name)
                    if not enter_functions and kind is not class_type:
                        functions.append(node)
                        continue
                elif kind in _IMPORT_TYPES:
                    import_count += 1
                    continue  # aliases only
                for field in fields_of[kind]:
                    value = getattr(node, field, None)
                    for child in value if value.__class__ is list else (value,):
                        child_kind = child.__class__
                        if child_kind is name_type:  # _note_name, inlined: names are a third of the nodes
                            name = child.id
                            if name != "_" or child.ctx.__class__ is not store_type:
                                used_names.add(name)
                            if name not in TASK_DECORATOR_NAMES:
                                continue
                        elif child_kind is constant_type or not isinstance(child, node_type):
                            continue
                        parents[child] = node
                        pending.append(child)
        self.root = root
        self.parents = parents
        self.body_hits = body_hits
        self.functions = functions
        self.import_count = import_count
        self._assignments = placed

    def assignments(self) -> list[ast.AST]:
        """The assignment (and for-loop) nodes in `ast.walk` order of the whole root. That walk lists depth d of each
        of the root's children in turn, so sorting the per-child finds by (depth, child) gives it back."""
        placed = self._assignments
        if len(placed) > 1:
            placed = sorted(placed, key=lambda entry: (self._depth(entry[1]), entry[0]))
        return [node for _, node in placed]

    def _depth(self, node: ast.AST) -> int:
        depth = 0
        while node is not self.root:
            node = self.parents[node]
            depth += 1
        return depth


# Expressions whose value is made from their `.value`, or from all their operands (`_volatile_cause`).
_VALUE_OF_PART = frozenset({ast.Attribute, ast.Subscript, ast.Starred, ast.FormattedValue, ast.Await})
_VALUE_OF_PARTS = frozenset(
    {ast.JoinedStr, ast.BinOp, ast.BoolOp, ast.IfExp, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Compare}
)


class _FunctionAnalysis(CreateFacts):
    """Calls, task-decorator references and ORM creates of one function (nested defs included)."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef, module: _Summarizer):
        self.node = node
        self.module = module
        function_walk = module.function_walks.get(node) or _Walk(node, set())
        self.parents = parents = function_walk.parents
        self.walk = function_walk
        placed = function_walk.assignments()
        self.assignments = _assignments(placed)
        self.local_types = local_types = self._local_types()
        self.row_types = rows = row_types(self.assignments, [n for n in placed if n.__class__ in _FOR_TYPES])
        self.volatile = self._volatile_names()
        self._query_names: set[str] | None = None
        self.calls: list[str] = []
        self.refs: list[str] = []
        self.creates: list[facts.CreateSite] = []
        self.effects: list[facts.Effect] = []
        self.lookups: list[facts.Lookup] = []
        self.unfollowed: list[tuple[int, str, str]] = []
        self.countdowns: list[tuple[int, float]] = []
        self._parameters: set[str] | None = None
        self._by_name: dict[str, str] | None = None
        calls, creates, found = self.calls, self.creates, self.effects
        email_names = {n for n, callee in local_types.items() if callee.rsplit(".", 1)[-1] in effects.EMAIL_CLASSES}
        types = {**module.instances, **local_types}  # module-level clients (`client = OpenAI()`), then the function's
        imports, segment = module.imports, module.source.segment
        deferred_only: dict[str, bool] = {}  # call reference -> every call of it runs after the commit
        for hit in function_walk.body_hits:
            if hit.__class__ is ast.Call:
                func = hit.func
                reference = call_reference(func, local_types, rows)
                if reference:
                    calls.append(reference)
                    if module.defers:
                        deferred_only[reference] = deferred_only.get(reference, True) and self._deferred(self._ancestors(hit))
                if func.__class__ is ast.Attribute:
                    attr = func.attr
                    if attr in _CREATE_METHODS:
                        site = self._create_site(hit)
                        if site:
                            creates.append(site)
                    elif attr in LOOKUP_METHODS and hit.keywords:
                        lookup = _lookup(hit, self._then(hit))
                        if lookup:
                            self.lookups.append(lookup)
                    elif attr == "connect":
                        module.note_signal_connection(hit)
                    elif attr in _COUNTDOWN_CALLS and hit.keywords:
                        seconds = celery_settings.wait_seconds(hit.keywords)
                        if seconds is not None:
                            self.countdowns.append((hit.lineno, seconds))
                local_callable = func.__class__ is ast.Name and (func.id in self.parameters_all or func.id in self.local_names)
                kind = None if local_callable else effects.classify(hit, imports, segment, email_names, types)
                if kind:
                    if kind[0] == "external" and len(kind) == 2 and func.__class__ is ast.Attribute and func.attr in effects.HTTP_WRITES:
                        kind = self._a_check(hit, kind)
                    if not (kind[0].startswith("db_") and self._rolled_back(hit)):
                        found.append(self._effect(hit, *kind))
                else:
                    why = self._unfollowed(hit)
                    if why and not (module.suppressions.get(hit.lineno, frozenset()) | module.suppressions.get(0, frozenset())) & {"*", "not-followed"}:
                        callee = one_line(segment(func))
                        if all(c != callee for _, c, _ in self.unfollowed):  # once per function: the first call
                            self.unfollowed.append((hit.lineno, callee, why))
            elif not isinstance(parents.get(hit), ast.Attribute):  # a task-decorator name, not `x.task.y`
                name = dotted(hit)
                if name:
                    self.refs.append(name)
        self.deferred_calls = [reference for reference, deferred in deferred_only.items() if deferred]

    def _unfollowed(self, call: ast.Call) -> str:
        """Why the analysis cannot tell what this call runs (an element of a plugin list, what getattr() or a
        registry returns, a callable passed in), or "" when it can."""
        func = call.func
        kind = func.__class__
        name = func.attr if kind is ast.Attribute else func.id if kind is ast.Name else ""
        if name == "call_command" and self.module.imports.get((dotted(func) or "").split(".")[0], "").startswith("django.core.management"):
            command = call.args[0].value if call.args and isinstance(call.args[0], ast.Constant) else "named at run time"
            return f"it runs the management command {command!r}, whose code the analysis does not follow"
        if kind is ast.Attribute:
            value = func.value
            if name in _RAW_SQL and "cursor" in self.module.segment(value).lower() and not _a_select(call):
                return "it runs raw SQL, which the analysis does not read"
            if value.__class__ is not ast.Name or value.id not in self.module.plugin_loop_names:
                return ""
            iterable = self._loop_over_constant(value.id, func)
            return f"{value.id} is each item of {iterable}" if iterable else ""
        if kind is ast.Subscript:
            return f"it calls an element of {self.module.segment(func.value)}"
        if kind is ast.Call:
            inner = dotted(func.func) or ""
            if inner == "super" or inner.rsplit(".", 1)[-1] in _WRAPS_ITS_ARGUMENT:
                return ""
            return "it calls what getattr() finds" if inner.rsplit(".", 1)[-1] == "getattr" else f"it calls what {inner or 'an expression'}() returns"
        if kind is not ast.Name or func.id in _BUILTINS or func.id in self.module.imports:
            return ""  # most plain-name calls: a builtin or an imported function
        if func.id in self.parameters:
            return f"{func.id} {PASSED_IN}"
        looked_up = self._looked_up_by_name().get(func.id)
        if looked_up:
            return f"{func.id} is what {looked_up}"
        handed = self._bound_to_a_parameter(func.id)
        if handed:
            return f"{func.id} is {handed}, which {PASSED_IN}"
        if func.id not in self.module.plugin_loop_names:
            return ""
        iterable = self._loop_over_constant(func.id, call)
        return f"{func.id} is each item of {iterable}" if iterable else ""

    def _a_check(self, call: ast.Call, kind: tuple[str, str]) -> tuple[str, ...]:
        """An HTTP post to an endpoint named as a check (`.../licenses/check/`, `/.update_check/`, `/status`): a
        query that carries its input in the body, read as a read."""
        url = effects.url_argument(call)
        if url.__class__ is ast.Name:
            url = next((value for targets, value in self.assignments if len(targets) == 1 and targets[0].__class__ is ast.Name
                        and targets[0].id == url.id), None)
        if url is not None and effects.CHECK_ENDPOINT.search(self.module.segment(url).lower()):
            return "external_read", kind[1], "check"
        return kind

    def _looked_up_by_name(self) -> dict[str, str]:
        """Local names bound to a callable some call handed back, and which call: `cls = getattr(module, name)`,
        `request = get_request_function()` (found on first use: most functions call no local name)."""
        if self._by_name is None:
            self._by_name = {}
            for targets, value in self.assignments:
                if value.__class__ is ast.Call and len(targets) == 1 and targets[0].__class__ is ast.Name:
                    callee = dotted(value.func) or ""
                    last = callee.rsplit(".", 1)[-1]
                    if last in _LOOKUPS_BY_NAME:
                        self._by_name[targets[0].id] = f"{last}() looked up by name"
                    elif (last and not last[:1].isupper() and last not in _WRAPS_ITS_ARGUMENT and last not in _BUILTINS
                          and callee != targets[0].id and not last.lower().endswith(_RETURNS_A_CLASS)):
                        self._by_name[targets[0].id] = f"{callee}() returned"  # `request = get_request_function()`
        return self._by_name

    @property
    def parameters_all(self) -> set[str]:
        """Every parameter, with a default or not: calling one runs what a caller passed, named as it likes."""
        args = self.node.args
        return {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a is not None}

    @property
    def local_names(self) -> set[str]:
        """Names the function binds by assignment (`notify = status_callback or print`): a call of one runs what
        was bound, not a library function of that name."""
        return {t.id for targets, _ in self.assignments for t in targets if t.__class__ is ast.Name}

    def _bound_to_a_parameter(self, name: str) -> str:
        """The parameter a local name is bound to, alone or as one choice of `a if t else b` / `a or b` whose
        other choices are lambdas or constants (`notify = status_callback if status_callback else lambda _: None`)."""
        for targets, value in self.assignments:
            if len(targets) == 1 and targets[0].__class__ is ast.Name and targets[0].id == name:
                choices = [value.body, value.orelse] if value.__class__ is ast.IfExp else value.values if value.__class__ is ast.BoolOp else [value]
                named = [c.id for c in choices if c.__class__ is ast.Name and c.id in self.parameters_all]
                if named and all(c.__class__ in (ast.Name, ast.Lambda, ast.Constant) for c in choices):
                    return named[0]
        return ""

    @property
    def parameters(self) -> set[str]:
        """Parameters a caller must pass (those with a default, `print_fn=print`, usually keep it)."""
        if self._parameters is None:
            args = self.node.args
            positional = [*args.posonlyargs, *args.args]
            required = positional[: len(positional) - len(args.defaults)]
            required += [a for a, default in zip(args.kwonlyargs, args.kw_defaults) if default is None]
            self._parameters = {a.arg for a in required} - {"self", "cls"}
        return self._parameters

    def _loop_over_constant(self, name: str, start: ast.AST) -> str:
        """`for handler in HANDLERS:` / `in settings.PLUGINS:` around a call of `handler`: a plugin list."""
        node = self.parents.get(start)
        while node is not None and node is not self.node:
            if node.__class__ in _FOR_TYPES and node.target.__class__ is ast.Name and node.target.id == name:
                iterable = dotted(node.iter) or ""
                last = iterable.rsplit(".", 1)[-1]
                constant = last.isupper() and len(last) > 1
                return iterable if constant or iterable.startswith("settings.") else ""
            node = self.parents.get(node)
        return ""

    def _then(self, call: ast.Call) -> str:
        """The method the query ends in: "first" for `filter(...).first()` and `filter(...).order_by(...).first()`."""
        while True:
            attribute = self.parents.get(call)
            if attribute.__class__ is not ast.Attribute or attribute.value is not call:
                return ""
            outer = self.parents.get(attribute)
            if attribute.attr not in CHAIN_METHODS or outer.__class__ is not ast.Call:
                return attribute.attr
            call = outer

    # --- local knowledge ----------------------------------------------------------------------

    def _local_types(self) -> dict[str, str]:
        """`service = CreatePayout(account)` -> {"service": "CreatePayout"}: enough to follow `service.run()`."""
        types: dict[str, str] = {}
        for targets, value in self.assignments:
            if isinstance(value, ast.Await):
                value = value.value
            if len(targets) == 1 and isinstance(targets[0], ast.Name) and isinstance(value, ast.Call):
                callee = dotted(value.func)
                if callee and callee.rsplit(".", 1)[-1][:1].isupper():
                    types[targets[0].id] = callee
        for hit in self.walk.body_hits:  # `with multiprocessing.Pool(4) as pool:`
            item = self.parents.get(hit) if hit.__class__ is ast.Call else None
            if item.__class__ is ast.withitem and item.optional_vars.__class__ is ast.Name and item.context_expr is hit:
                callee = dotted(hit.func)
                if callee and callee.rsplit(".", 1)[-1][:1].isupper():
                    types[item.optional_vars.id] = callee
        return types

    def _volatile_names(self) -> dict[str, str]:
        """Local names bound to values that differ between two runs (now(), uuid4(), random ...)."""
        volatile: dict[str, str] = {}  # name -> the changing call it comes from
        for _ in range(2):  # two passes reach names assigned from other volatile names
            for targets, value in self.assignments:
                cause, _ = self._volatile_cause(value, volatile)
                if cause:
                    for target in targets:
                        for name in names_in(target):
                            volatile.setdefault(name, cause)
            if not volatile:
                break  # a second pass from nothing finds nothing again
        return volatile

    def volatile_reason(self, node: ast.AST, volatile: dict[str, str] | None = None) -> str:
        """Why the value of `node` differs between two runs, or "" (see `_volatile_cause`)."""
        cause, via = self._volatile_cause(node, self.volatile if volatile is None else volatile)
        if not cause:
            return ""
        return f"{via} comes from {cause}, which differs between runs" if via else f"{cause} differs between runs"

    def _volatile_cause(self, node: ast.AST, volatile: dict[str, str]) -> tuple[str, str]:
        """(the changing call, the local name it came through) when `node`'s value flows from one.

        The value must flow from the call: `uuid4().hex[:8]`, `f"PO-{now():%Y}"`, `str(token)`. An
        object made by a call that merely receives one (`Wallet.objects.create(opened_at=now())`) is
        the same row on both runs, so it does not count."""
        kind = node.__class__
        if kind is ast.Name:
            return (volatile[node.id], node.id) if node.id in volatile else ("", "")
        if kind is ast.Call:
            callee = dotted(node.func) or ""
            parts = callee.split(".")
            root = self.module.imports.get(parts[0], parts[0]).split(".")[0]
            if parts[-1] in VOLATILE_CALLS or root in VOLATILE_MODULES or _MADE_AT_RANDOM.search(parts[-1]):
                return self.module.segment(node) or f"{callee}()", ""
            name = node.func.attr if isinstance(node.func, ast.Attribute) else callee
            operands = [node.func.value] if isinstance(node.func, ast.Attribute) else []
            if name in VALUE_TRANSFORMS:
                operands += [*node.args, *(k.value for k in node.keywords)]
            return self._first_cause(operands, volatile)
        if kind in _VALUE_OF_PART:
            return self._volatile_cause(node.value, volatile)
        if kind is ast.UnaryOp:
            return self._volatile_cause(node.operand, volatile)
        if kind in _VALUE_OF_PARTS:
            return self._first_cause([c for c in child_nodes(node) if isinstance(c, ast.expr)], volatile)
        return "", ""

    def _first_cause(self, nodes, volatile: dict[str, str]) -> tuple[str, str]:
        for node in nodes:
            found = self._volatile_cause(node, volatile)
            if found[0]:
                return found
        return "", ""

    def _effect(self, call: ast.Call, kind: str, receiver: str, family: str = "") -> facts.Effect:
        ancestors = self._ancestors(call)
        statement = self._statement_of(call, ancestors)
        target = ""
        if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
            value = statement.value.value if isinstance(statement.value, ast.Await) else statement.value
            if value is call:
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                target = self.module.segment(targets[0])
        return facts.Effect(
            kind=kind,
            line=call.lineno,
            column=self.module.char_column(call.lineno, call.col_offset),
            end_line=call.end_lineno or call.lineno,
            call=self.module.segment(call.func),
            receiver=receiver,
            statement=statement.lineno,
            target=target,
            in_loop=any(isinstance(a, LOOPS) for a in ancestors),
            in_atomic=not any(isinstance(a, ast.Lambda) for a in ancestors) and any(  # a lambda runs later: on_commit
                isinstance(a, (ast.With, ast.AsyncWith)) and any(is_atomic(item.context_expr) for item in a.items)
                for a in ancestors
            ),
            skips_conflicts=kind == "db_create" and _skips_conflicts(call),
            deferred=self.module.defers and self._deferred(ancestors),
            family=family or (self._saved_row(call, receiver) if kind == "db_save" else (_counted_up(call) or self._volatile_update(call)) if kind == "db_update" else ""),
        )

    def _deferred(self, ancestors: list[ast.AST]) -> bool:
        """Inside a lambda given to `on_commit(...)`, or a nested function handed to one (`connection.on_commit(
        delete_from_storage)`): it runs only after the commit, so a rollback never meets it."""
        for parent, node in zip(ancestors, ancestors[1:]):
            if node.__class__ is ast.Lambda and parent.__class__ is ast.Call and _on_commit(parent):
                return True
            if node.__class__ in (ast.FunctionDef, ast.AsyncFunctionDef) and any(
                n.__class__ is ast.Call and _on_commit(n) and n.args and n.args[0].__class__ is ast.Name and n.args[0].id == node.name
                for n in ast.walk(parent)
            ):
                return True
        return False

    def _counted_before(self, call: ast.Call, counted: str) -> bool:
        return any(
            node.__class__ is ast.AugAssign and node.lineno < call.lineno and node.target.__class__ is ast.Attribute
            and self.module.segment(node.target).startswith(counted) and self._runs_before(node, call)
            for node in self.walk.assignments()
        )

    def _runs_before(self, statement: ast.stmt, call: ast.Call) -> bool:
        """Whether the statement runs on the way to the call: the call is in a later statement of the same
        block (not on another branch of an if / elif)."""
        owner = self.parents.get(statement)
        ancestors = set(map(id, self._ancestors(call)))
        for field in ("body", "orelse", "finalbody"):
            block = getattr(owner, field, None)
            if isinstance(block, list) and statement in block:
                return any(id(later) in ancestors or self._statement_of(call, self._ancestors(call)) is later for later in block[block.index(statement) + 1 :])
        return False

    def _volatile_update(self, call: ast.Call) -> str:
        """ "volatile" for `.update(version=str(uuid4()))`: each run writes a new random value; "stamped" for
        `.update(modified=timezone.now())`: a repeat writes a later time."""
        if any(self._made_at_random(keyword.value) for keyword in call.keywords):
            return "volatile"
        return "stamped" if any(RUN_TIME.search(self._volatile_cause(k.value, self.volatile)[0]) for k in call.keywords) else ""

    def _made_at_random(self, value: ast.AST) -> bool:
        """A value a uuid, random or token call makes anew on every run (not a time: a repeat's later
        timestamp is the same kind of value)."""
        cause, _ = self._volatile_cause(value, self.volatile)
        return any(word in cause.lower() for word in ("uuid", "random", "token", "secrets", "nonce"))

    def _rolled_back(self, call: ast.Call) -> bool:
        """Inside `with rolledback_transaction():` (a block the project rolls back, by its name): its writes never stay."""
        return any(
            ancestor.__class__ in (ast.With, ast.AsyncWith) and any(
                item.context_expr.__class__ is ast.Call and _ROLLED_BACK.search(dotted(item.context_expr.func) or "")
                for item in ancestor.items
            )
            for ancestor in self._ancestors(call)
        )

    def _saved_row(self, call: ast.Call, receiver: str) -> str:
        """What a save of a row not built here writes: "increment" when a field of it was counted up before
        (`webhook.failed_triggers += 1`: a redelivery counts again), "read_row" when the name holds a row a
        query returned (the same update again), "" when where the row comes from is not read here."""
        counted = receiver + "."
        if self._counted_before(call, counted):
            return "increment"
        if any(k.arg == "update_fields" for k in call.keywords):
            return "update_fields"  # Django refuses to insert with update_fields: an update of a row that exists
        for targets, value in self.assignments:  # `job.file_name = random_name()` before the save
            target = targets[0] if len(targets) == 1 else None
            if (target.__class__ is ast.Attribute and self.module.segment(target).startswith(counted) and value.lineno < call.lineno
                    and self._made_at_random(value)):
                return "volatile"
        for targets, value in self.assignments:  # `row = Model.objects.get(...)`, `row, _ = ....update_or_create(...)`
            target = targets[0] if len(targets) == 1 else None
            if target.__class__ is ast.Tuple and target.elts and target.elts[0].__class__ is ast.Name:
                target = target.elts[0]
            if target.__class__ is ast.Name and target.id == receiver:
                text = self.module.segment(value)
                if any(hint in text for hint in effects.QUERYSET_HINTS) or "get_object_or_404(" in text:
                    return "read_row"
        return "read_row" if receiver in self.row_types else ""  # `for row in Model.objects.filter(...)`
