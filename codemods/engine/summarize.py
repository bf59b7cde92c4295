"""One module's source -> `facts.Module`, with the stdlib `ast` (fast; libcst is kept for rewriting).

The summary records what later stages need and nothing else: imports, functions with their calls and
ORM creates (already classified: literal / volatile / loop-bound kwargs, guards, suppressions), classes
with Django model fields and constraints, Celery apps and task registrations.
"""

from __future__ import annotations

import ast
import re

from . import celery_settings, effects, facts
from .names import call_reference, dotted
from .source import SourceText, decode, suppressions
from .values import VALUE_TRANSFORMS, VOLATILE_CALLS, VOLATILE_MODULES
from .walk import CHILD_FIELDS, child_nodes, walk

TASK_DECORATOR_NAMES = frozenset({"shared_task", "task", "periodic_task"})
QUERY_METHODS = frozenset({"exists", "filter", "count", "first", "last", "get", "exclude"})
# Queries whose keywords name the fields that find a row: how the project itself identifies a model's rows.
LOOKUP_METHODS = frozenset({"filter", "get", "aget", "get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create"})
# Chained queryset calls between a manager and a lookup: `Payout.objects.select_related("a").filter(...)`.
CHAIN_METHODS = frozenset({"select_related", "prefetch_related", "using", "all", "only", "defer", "order_by", "select_for_update", "filter", "exclude", "db_manager"})
META_OPTIONS = frozenset({"abstract", "proxy", "managed"})  # the Meta options rules read
MODEL_SIGNALS = frozenset({"pre_save", "post_save", "pre_delete", "post_delete", "m2m_changed"})
_UPPER_CONSTANT = re.compile(r"^_*[A-Z][A-Z0-9_]*$")


def summarize(source: bytes, path: str, module_name: str, is_package: bool) -> facts.Module:
    """Raises SyntaxError (with lineno) or ValueError for source that does not parse."""
    tree = ast.parse(source, filename=path)
    text = decode(source)
    return _Summarizer(tree, text, path, module_name, is_package).run()


class _Summarizer:
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
        for node in self._imports_in_walk_order():  # a later import of a name wins: keep ast.walk's order
            self._record_import(node)
        statements = list(self._module_statements(self.tree.body))
        settings = celery_settings.collect(statements, self.segment)
        for stmt in statements:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions[stmt.name] = self._function(stmt, stmt.name)
            elif isinstance(stmt, ast.ClassDef):
                classes[stmt.name] = self._class(stmt)
            elif isinstance(stmt, (ast.Assign, ast.Expr)):
                value = stmt.value
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
            signal_connections=self.signal_connections,
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

    # --- classes and Django models ------------------------------------------------------------

    def _class(self, node: ast.ClassDef, prefix: str = "") -> facts.Class:
        qualname = prefix + node.name
        methods: dict[str, facts.Function] = {}
        fields: dict[str, facts.ModelField] = {}
        constraints: list[facts.Constraint] = []
        managers: list[str] = []
        meta: dict[str, object] = {}
        attributes: list[str] = []
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                methods[stmt.name] = self._function(stmt, f"{qualname}.{stmt.name}")
            elif isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
                meta, constraints = self._meta(stmt)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                attributes.extend(t.id for t in targets if isinstance(t, ast.Name))
                if len(targets) != 1 or not isinstance(targets[0], ast.Name) or stmt.value is None:
                    continue
                name = targets[0].id
                value = stmt.value
                if not isinstance(value, ast.Call):
                    continue
                callee = dotted(value.func) or ""
                kind = callee.rsplit(".", 1)[-1]
                if kind.endswith("Field") or kind in {"ForeignKey", "ForeignObject", "ParentalKey"}:
                    fields[name] = self._field(name, kind, value)
                elif kind.endswith("Manager") or kind == "as_manager" or _is_from_queryset(value):
                    managers.append(name)
        for field in fields.values():
            if field.unique or field.primary_key:
                constraints.append(facts.Constraint((field.name,), f"{field.name} (unique=True)", origin="unique"))
        return facts.Class(
            name=node.name,
            qualname=qualname,
            line=node.lineno,
            bases=[d for d in (dotted(b) for b in node.bases) if d],
            methods=methods,
            fields=fields,
            constraints=constraints,
            managers=managers,
            abstract=meta.get("abstract") is True,
            meta={k: v for k, v in meta.items() if k in META_OPTIONS},
            attributes=tuple(attributes),
        )

    def _field(self, name: str, kind: str, call: ast.Call) -> facts.ModelField:
        options = {k.arg: k.value for k in call.keywords if k.arg}
        target = call.args[0] if call.args else options.get("to")
        target_name = ""
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            target_name = target.value
        elif target is not None:
            target_name = dotted(target) or ""
        related = options.get("related_name")
        return facts.ModelField(
            name=name,
            kind=kind,
            target=target_name if kind in {"ForeignKey", "OneToOneField", "ParentalKey", "ManyToManyField"} else "",
            unique=_is_true(options.get("unique")) or kind == "OneToOneField",
            primary_key=_is_true(options.get("primary_key")),
            related_name=related.value if isinstance(related, ast.Constant) and isinstance(related.value, str) else "",
            null=_is_true(options.get("null")),
            default=self.segment(options["default"]) if "default" in options else None,
        )

    def _meta(self, meta: ast.ClassDef) -> tuple[dict[str, object], list[facts.Constraint]]:
        """The literal options of `class Meta` and its unique constraints."""
        options: dict[str, object] = {}
        constraints: list[facts.Constraint] = []
        for stmt in meta.body:
            if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
                continue
            target = stmt.targets[0]
            if not isinstance(target, ast.Name):
                continue
            if isinstance(stmt.value, ast.Constant):
                options[target.id] = stmt.value.value
            if target.id == "unique_together":
                for group in _unique_together(stmt.value):
                    constraints.append(facts.Constraint(group, "unique_together " + repr(group), origin="unique_together"))
            elif target.id == "constraints" and isinstance(stmt.value, (ast.List, ast.Tuple)):
                for item in stmt.value.elts:
                    constraint = _unique_constraint(item)
                    if constraint:
                        constraints.append(constraint)
        return options, constraints

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
            atomic=any(map(_is_atomic, decorators)),
            is_async=isinstance(node, ast.AsyncFunctionDef),
            suppressed=self.suppressions.get(node.lineno, frozenset()),
            first_line=min([d.lineno for d in decorators] + [node.lineno]),
            lookups=analysis.lookups,
        )

    def segment(self, node: ast.AST) -> str:
        return self.source.segment(node)

    def char_column(self, line: int, byte_offset: int) -> int:
        return self.source.char_column(line, byte_offset)

    def comment_only(self, line: int) -> bool:
        return self.source.comment_only(line)


def _is_true(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _is_from_queryset(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Call) and (dotted(call.func.func) or "").endswith("from_queryset")


def _strings(node) -> tuple[str, ...] | None:
    if isinstance(node, (ast.List, ast.Tuple)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return tuple(e.value for e in node.elts)
    return None


def _unique_together(node) -> list[tuple[str, ...]]:
    flat = _strings(node)
    if flat is not None:
        return [flat] if flat else []
    if isinstance(node, (ast.List, ast.Tuple)):
        return [group for group in (_strings(e) for e in node.elts) if group]
    return []


def _unique_constraint(node) -> facts.Constraint | None:
    if not isinstance(node, ast.Call) or (dotted(node.func) or "").rsplit(".", 1)[-1] != "UniqueConstraint":
        return None
    options = {k.arg: k.value for k in node.keywords if k.arg}
    fields = _strings(options.get("fields"))
    if not fields:
        return None
    name = options.get("name")
    return facts.Constraint(
        fields=fields,
        name=name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else "",
        conditional="condition" in options,
        condition_fields=_q_fields(options.get("condition")),
    )


def _q_fields(node) -> tuple[str, ...]:
    """Field names a `Q(status="open") & ~Q(kind__in=...)` condition reads."""
    if node is None:
        return ()
    names = []
    for child in walk(node):
        if isinstance(child, ast.keyword) and child.arg:
            names.append(child.arg.split("__")[0])
    return tuple(dict.fromkeys(names))


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


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_is_literal(e) for e in node.elts)
    name = dotted(node)
    # References to constants: PENDING, Status.PENDING, Payout.Status.PENDING
    return bool(name) and bool(_UPPER_CONSTANT.match(name.rsplit(".", 1)[-1]))


def _assignments(nodes: list[ast.AST]) -> list[tuple[list[ast.expr], ast.expr]]:
    """(targets, value) of each assignment that has a value."""
    found = []
    for node in nodes:
        if node.__class__ is ast.Assign:
            found.append((node.targets, node.value))
        elif node.value is not None:  # AnnAssign, AugAssign, NamedExpr
            found.append(([node.target], node.value))
    return found


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in walk(node) if n.__class__ is ast.Name}


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
    - the assignment nodes, see `assignments()`;
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
                elif kind in _ASSIGNMENT_TYPES:
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
        """The assignment nodes in `ast.walk` order of the whole root. That walk lists depth d of each
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
_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_EARLY_EXITS = (ast.Return, ast.Raise, ast.Continue)


class _FunctionAnalysis:
    """Calls, task-decorator references and ORM creates of one function (nested defs included)."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef, module: _Summarizer):
        self.node = node
        self.module = module
        function_walk = module.function_walks.get(node) or _Walk(node, set())
        self.parents = parents = function_walk.parents
        self.assignments = _assignments(function_walk.assignments())
        self.local_types = local_types = self._local_types()
        self.volatile = self._volatile_names()
        self._query_names: set[str] | None = None
        self.calls: list[str] = []
        self.refs: list[str] = []
        self.creates: list[facts.CreateSite] = []
        self.effects: list[facts.Effect] = []
        self.lookups: list[facts.Lookup] = []
        calls, creates, found = self.calls, self.creates, self.effects
        email_names = {n for n, callee in local_types.items() if callee.rsplit(".", 1)[-1] in effects.EMAIL_CLASSES}
        imports, segment = module.imports, module.source.segment
        for hit in function_walk.body_hits:
            if hit.__class__ is ast.Call:
                func = hit.func
                reference = call_reference(func, local_types)
                if reference:
                    calls.append(reference)
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
                kind = effects.classify(hit, imports, segment, email_names)
                if kind:
                    found.append(self._effect(hit, *kind))
            elif not isinstance(parents.get(hit), ast.Attribute):  # a task-decorator name, not `x.task.y`
                name = dotted(hit)
                if name:
                    self.refs.append(name)

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
        return types

    def _volatile_names(self) -> dict[str, str]:
        """Local names bound to values that differ between two runs (now(), uuid4(), random ...)."""
        volatile: dict[str, str] = {}  # name -> the changing call it comes from
        for _ in range(2):  # two passes reach names assigned from other volatile names
            for targets, value in self.assignments:
                cause, _ = self._volatile_cause(value, volatile)
                if cause:
                    for target in targets:
                        for name in _names_in(target):
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
            if parts[-1] in VOLATILE_CALLS or root in VOLATILE_MODULES:
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

    def _effect(self, call: ast.Call, kind: str, receiver: str) -> facts.Effect:
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
            in_loop=any(isinstance(a, _LOOPS) for a in ancestors),
            in_atomic=any(
                isinstance(a, (ast.With, ast.AsyncWith)) and any(_is_atomic(item.context_expr) for item in a.items)
                for a in ancestors
            ),
        )

    # --- creates ------------------------------------------------------------------------------

    def _create_site(self, call: ast.Call) -> facts.CreateSite | None:
        """A `<receiver>.<manager>.create(...)` call (the caller checked `.create` / `.acreate`)."""
        func = call.func
        manager_node = func.value
        if (
            isinstance(manager_node, ast.Call)
            and isinstance(manager_node.func, ast.Attribute)
            and manager_node.func.attr in {"using", "db_manager"}
        ):
            manager_node = manager_node.func.value
        if not isinstance(manager_node, ast.Attribute):
            return None
        receiver = dotted(manager_node.value)
        if not receiver:
            return None
        expression: ast.AST = call
        parent = self.parents.get(call)
        if isinstance(parent, ast.Await):
            expression, parent = parent, self.parents.get(parent)
        if isinstance(parent, ast.Expr):
            context = "bare"
        elif (
            isinstance(parent, ast.Assign)
            and parent.value is expression
            and len(parent.targets) == 1
            and isinstance(parent.targets[0], (ast.Name, ast.Attribute, ast.Subscript))
        ):
            context = "assign"
        else:
            context = "index"
        ancestors = self._ancestors(call)
        loop_names = self._loop_names(ancestors)
        return facts.CreateSite(
            line=call.lineno,
            column=self.module.char_column(call.lineno, call.col_offset),
            end_line=call.end_lineno or call.lineno,
            method=func.attr,
            receiver=receiver,
            manager=manager_node.attr,
            receiver_type=self.local_types.get(receiver.split(".")[0], ""),
            kwargs=[self._kwarg(k, loop_names) for k in call.keywords],
            positional=bool(call.args),
            context=context,
            in_loop=any(isinstance(a, _LOOPS) for a in ancestors),
            guard=self._guard(call, ancestors),
            suppressed=self._suppressed(call, ancestors),
        )

    def _kwarg(self, keyword: ast.keyword, loop_names: set[str]) -> facts.Kwarg:
        source = self.module.segment(keyword.value)
        reason = self.volatile_reason(keyword.value)
        if reason:
            return facts.Kwarg(keyword.arg, source, "volatile", reason)
        if _is_literal(keyword.value):
            return facts.Kwarg(keyword.arg, source, "literal")
        if loop_names and loop_names & _names_in(keyword.value):
            return facts.Kwarg(keyword.arg, source, "loop")
        return facts.Kwarg(keyword.arg, source, "other")

    def _ancestors(self, node: ast.AST) -> list[ast.AST]:
        """From the function down to the node's parent."""
        chain = []
        while node is not self.node and node in self.parents:
            node = self.parents[node]
            chain.append(node)
        return list(reversed(chain))

    def _loop_names(self, ancestors: list[ast.AST]) -> set[str]:
        """Names that change from one iteration to the next: loop targets and what is computed from them."""
        names: set[str] = set()
        for ancestor in ancestors:
            if isinstance(ancestor, (ast.For, ast.AsyncFor)):
                names |= _names_in(ancestor.target)
            elif isinstance(ancestor, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                for generator in ancestor.generators:
                    names |= _names_in(generator.target)
        if names:
            loops = [a for a in ancestors if isinstance(a, (ast.For, ast.AsyncFor, ast.While))]
            for loop in loops:
                for child in walk(loop):
                    if isinstance(child, ast.Assign) and names & _names_in(child.value):
                        for target in child.targets:
                            names |= _names_in(target)
        return names

    def _statement_of(self, node: ast.AST, ancestors: list[ast.AST]) -> ast.stmt:
        for ancestor in reversed([*ancestors, node]):
            if isinstance(ancestor, ast.stmt):
                return ancestor
        return self.node

    def _suppressed(self, call: ast.Call, ancestors: list[ast.AST]) -> frozenset[str]:
        suppressions = self.module.suppressions
        if not suppressions:
            return frozenset()
        statement = self._statement_of(call, ancestors)
        lines = set(range(statement.lineno, (call.end_lineno or call.lineno) + 1))
        if self.module.comment_only(statement.lineno - 1):
            lines.add(statement.lineno - 1)
        found: set[str] = set()
        for line in lines:
            found |= suppressions.get(line, frozenset())
        return frozenset(found)

    # --- guards -------------------------------------------------------------------------------

    def _guard(self, node: ast.AST, ancestors: list[ast.AST]) -> str:
        path = [*ancestors, node]
        for parent, child in zip(path, path[1:]):
            if isinstance(parent, ast.Try) and child in parent.body:
                for handler in parent.handlers:
                    if handler.type is not None and "IntegrityError" in self.module.segment(handler.type):
                        return f"inside try/except IntegrityError (line {parent.lineno})"
            if isinstance(parent, ast.ExceptHandler) and parent.type is not None and "DoesNotExist" in self.module.segment(parent.type):
                attempt = self.parents.get(parent)
                if isinstance(attempt, ast.Try) and any(self._queries(s) for s in attempt.body):
                    return f"created only when the lookup in the try block (line {attempt.lineno}) finds no row"
            if isinstance(parent, ast.If):
                test = parent.test
                negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
                absent = negated or _compares_to_none(test, ast.Is)
                present = not negated and not _compares_to_none(test, ast.Is)
                checked = test.operand if negated else test
                if child in parent.body and absent and self._queries(checked):
                    return f"already guarded by `if {self.module.segment(test)}` (line {parent.lineno})"
                if child in parent.orelse and present and self._queries(checked):
                    return f"already guarded by `if {self.module.segment(test)}` (line {parent.lineno})"
            for block in _blocks(parent):
                if child in block:
                    for earlier in block[: block.index(child)]:
                        reason = self._early_return_guard(earlier)
                        if reason:
                            return reason
        return ""

    def _queries(self, test: ast.AST) -> bool:
        """Whether the test runs a query, or reads a name bound to one (`row = M.objects.filter(...).first()`)."""
        return any(
            (isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr in QUERY_METHODS)
            or (c.__class__ is ast.Name and c.id in self.query_names)
            for c in walk(test)
        )

    @property
    def query_names(self) -> set[str]:
        """Local names bound to a query's result, found on first use (most functions never ask)."""
        if self._query_names is None:
            self._query_names = {
                name
                for targets, value in self.assignments
                if self._queries_directly(value)
                for target in targets
                for name in _names_in(target)
            }
        return self._query_names

    def _queries_directly(self, value: ast.AST) -> bool:
        return any(isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr in QUERY_METHODS for c in walk(value))

    def _early_return_guard(self, statement: ast.stmt) -> str:
        """`if payout.paid_at: return` or `if Payout.objects.filter(...).exists(): return` before the create."""
        if not isinstance(statement, ast.If) or not statement.body or not isinstance(statement.body[-1], _EARLY_EXITS):
            return ""
        test = statement.test
        reads_state = self._queries(test) or any(
            isinstance(c, ast.Attribute)
            and isinstance(c.value, ast.Name)
            and c.value.id not in self.module.imports
            and c.value.id != "settings"
            for c in walk(test)
        )
        if not reads_state:
            return ""
        return f"behind the early-return state check `if {self.module.segment(test)}` (line {statement.lineno})"


def _is_atomic(node: ast.AST) -> bool:
    """`transaction.atomic`, `atomic`, `transaction.atomic(using=...)`, `db.transaction.atomic()`."""
    if isinstance(node, ast.Call):
        node = node.func
    name = dotted(node) or ""
    return name.rsplit(".", 1)[-1] == "atomic"


def _compares_to_none(test: ast.AST, operator: type) -> bool:
    """`x is None` (operator ast.Is) / `x is not None` (ast.IsNot), and `==` / `!=` likewise."""
    equal = {ast.Is: ast.Eq, ast.IsNot: ast.NotEq}[operator]
    return (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (operator, equal))
        and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
    )


def _blocks(node: ast.AST) -> list[list[ast.stmt]]:
    blocks = []
    for name in ("body", "orelse", "finalbody"):
        value = getattr(node, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            blocks.append(value)
    return blocks
