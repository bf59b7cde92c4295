"""Where the project writes an attribute, and with what: `obj.booking_ref = ...`, `create(booking_ref=...)`,
`update(...)`, `defaults={"booking_ref": ...}`, `setattr(obj, "booking_ref", ...)`, and model forms and
serializers that let a user fill the field. A guard that reads the attribute as "already done" is only
right when nothing else fills it.

Every file of the project is searched (not only the modules the index loaded: views and serializers
write fields a task later reads), by its bytes first, so only the files that spell the name are parsed.
Tests and test factories are left out: they fill fields to set up a case, not to run the project.
"""

from __future__ import annotations

import ast
import bisect
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import newer_syntax
from .names import dotted
from .pool import parallel_map
from .source import SourceText, decode
from .walk import child_nodes

if TYPE_CHECKING:
    from .project import Model, Project

# Methods whose keyword arguments only select rows: `filter(booking_ref=...)` reads, it does not write.
READS = frozenset(
    {
        "filter", "exclude", "get", "aget", "exists", "count", "first", "last", "order_by", "values", "values_list",
        "only", "defer", "annotate", "aggregate", "Q", "get_object_or_404", "refresh_from_db", "select_related",
    }
)
EMPTY = (None, "", 0, False)
# What a module that does not spell the attribute must say to let users write it: a form or serializer
# taking every field, or one that excludes some; and what a copy of a whole row says.
WRITES_UNSPELLED = re.compile(rb"__all__|\bexclude\b")
ROW_COPY = re.compile(rb"\.(?:pk|id)\s*=\s*None\b")
WORTH_ENTERING = re.compile(r"class\s+Meta\b|^[ \t]*(?:from|import)\s|\.(?:pk|id)\s*=\s*None\b", re.MULTILINE)
FORM_META = re.compile(rb"class\s+Meta\b")
FORM_MODEL = re.compile(rb"\bmodel\s*=")
POOL_THRESHOLD = 48  # modules to walk at once before a process pool pays for itself
USER_INPUT = ("request.", "cleaned_data", "validated_data", "initial_data", ".POST", ".GET", ".data[")


@dataclass(frozen=True)
class Write:
    module: str
    line: int
    how: str  # "reservation.booking_ref = ...", "create(booking_ref=...)", "a form or serializer field"
    value: str  # the value as written ("" when a user fills it)
    clears: bool = False  # writes an empty value (None, "", 0, False): never makes a guard fire
    by_user: bool = False  # filled from a request, a form or a serializer, or copied with the whole row

    def where(self, project: Project) -> str:
        return f"{project.display(self.module)}:{self.line}"


def attribute_writes(project: Project, attr: str, model: Model | None = None) -> list[Write]:
    """Every write of an attribute named `attr` the project's own code makes (by name: the receiver's
    type is rarely known, so any object's `attr` counts), and the forms and serializers of `model`
    (of any model when None) whose fields include it."""
    return project.writers.of(attr, model)


class AttributeWriters:
    """The writes of each module, found in one walk of it, and the answer for each attribute, kept for
    the run: rules ask about the same attributes again and again. Modules are walked in a process pool
    when many are new at once."""

    def __init__(self, project: Project):
        self.project = project
        self._modules: dict[tuple[str, str], _ModuleWrites | None] = {}  # (module, attribute) -> its walk
        self._answers: dict[tuple[str, tuple[str, str] | None], list[Write]] = {}
        self._matches: dict[tuple[str, bytes], bool] = {}
        self._module_order: dict[str, int] | None = None
        self._any_walk: dict[str, _ModuleWrites | None] = {}
        self._spelled_writes: dict[str, list[tuple[int, int, int, Write]]] = {}
        self._form_metas: dict[tuple[str, str], dict[str | None, list[tuple[int, int, int, _Meta, str]]]] = {}
        self._forms_spelling: dict[tuple[str, bool], list[str]] = {}
        self._copies: dict[tuple[str, str], list[Write]] = {}

    def of(self, attr: str, model: Model | None) -> list[Write]:
        memo = (attr, (model.module, model.name) if model is not None else None)
        if memo not in self._answers:
            self._answers[memo] = self._find(attr, model)
        return list(self._answers[memo])

    def _find(self, attr: str, model: Model | None) -> list[Write]:
        """The writes in order: module by module in the order files were found, each in source order."""
        found = list(self._spelled(attr))
        forms = self._forms(attr, model.name if model is not None else "")
        for named, metas in forms.items():
            for module_place, line, column, meta, where in metas:
                if model is None or named is None or (named == model.name and _same_module(where, model.module)):
                    found.append((module_place, line, column, Write(meta.module, meta.line, "a form or serializer field a user fills", "", by_user=True)))
        found.sort(key=lambda entry: entry[:3])
        return [write for *_, write in found] + (self._row_copies(model) if model is not None else [])

    def _row_copies(self, model: Model) -> list[Write]:
        """Whole-row copies in the modules that name the model (every field of a row written again)."""
        memo = (model.module, model.name)
        if memo not in self._copies:
            copying = [m for m in self.project.modules_mentioning(model.name) if self._says(m, ROW_COPY)]
            self._copies[memo] = [c for m in copying if (walked := self._walked(m)) is not None for c in walked.row_copies]
        return self._copies[memo]

    def _spelled(self, attr: str) -> list[tuple[int, int, Write]]:
        """(module's place, line, column, write) for the writes that spell the attribute."""
        if attr not in self._spelled_writes:
            pattern = _write_pattern(attr)
            modules = [m for m in self.project.modules_mentioning(attr) if self._says(m, pattern)]
            self._walk(modules, attr)
            order = self._order()
            self._spelled_writes[attr] = [
                (order[m], line, column, write)
                for m in modules if self._modules[(m, attr)] is not None for line, column, write in self._modules[(m, attr)].writes
            ]
        return self._spelled_writes[attr]

    def _forms(self, attr: str, model_name: str) -> dict[str | None, list[tuple[int, int, int, _Meta, str]]]:
        """The forms and serializers whose fields take the attribute, by the name of the model their Meta
        traces to (None when it cannot be traced), each as (module's place, line, column, Meta, the
        model's module), in modules that spell the attribute or (with a model) the model's name: a form
        with fields = "__all__" need not spell the attribute, and only a module that spells a model's
        name can name it. With a model, only the groups for its name and for None are read."""
        memo = (attr, model_name)
        if memo not in self._form_metas:
            modules = self._form_modules(attr)
            if model_name:
                spelled, named = set(modules), set(self._form_modules(model_name))
                modules = [m for m in modules if m in named] + [
                    m for m in self._form_modules(model_name, unspelled_fields=True) if m not in spelled
                ]
            self._walk([m for m in modules if m not in self._any_walk])
            order = self._order()
            grouped: dict[str | None, list[tuple[int, int, int, _Meta, str]]] = {}
            for module in modules:
                walked = self._walked(module)
                for line, column, meta in walked.metas if walked is not None else ():
                    if meta.takes(attr):
                        traced = walked.traces(meta)
                        where, name = traced if traced is not None else ("", None)
                        if model_name and name not in (None, model_name):
                            continue
                        grouped.setdefault(name, []).append((order[module], line, column, meta, where))
            self._form_metas[memo] = grouped
        return self._form_metas[memo]

    def _form_modules(self, word: str, unspelled_fields: bool = False) -> list[str]:
        """The modules that spell `word` and could hold a form or serializer Meta; with `unspelled_fields`,
        only those that could also take fields they do not spell (fields = "__all__", or exclude)."""
        memo = (word, unspelled_fields)
        if memo not in self._forms_spelling:
            self._forms_spelling[memo] = [
                m for m in self.project.modules_mentioning(word)
                if self._says(m, FORM_META) and self._says(m, FORM_MODEL) and (not unspelled_fields or self._says(m, WRITES_UNSPELLED))
            ]
        return self._forms_spelling[memo]

    def _says(self, module: str, pattern: re.Pattern) -> bool:
        """The module's bytes match the pattern (a cheap test before a walk)."""
        memo = (module, pattern.pattern)
        if memo not in self._matches:
            self._matches[memo] = bool(pattern.search(self.project.source_bytes(module)))
        return self._matches[memo]

    def _order(self) -> dict[str, int]:
        if self._module_order is None:
            self._module_order = {name: index for index, name in enumerate(self.project.module_names())}
        return self._module_order

    def _walked(self, module: str) -> _ModuleWrites | None:
        """A walk of the module for any attribute (each holds its Meta classes, imports and row copies)."""
        if module not in self._any_walk:
            self._walk([module])
        return self._any_walk.get(module)

    def _walk(self, modules: list[str], attr: str = "") -> None:
        todo = [m for m in modules if (m, attr) not in self._modules]
        for module in [m for m in todo if self.project.is_test_module(m)]:
            self._modules[(module, attr)] = self._any_walk[module] = None
        jobs = [(m, self.project.is_package(m), self.project.source_bytes(m), attr) for m in todo if (m, attr) not in self._modules]
        for (module, *_), walked in zip(jobs, parallel_map(_walk_job, jobs, self.project.jobs, POOL_THRESHOLD)):
            self._modules[(module, attr)] = self._any_walk[module] = walked


def _write_pattern(attr: str) -> re.Pattern:
    """What a module's bytes must hold to write `attr` (a cheap test before a walk): `x.attr = ...` (or
    `+=`, an annotation, a tuple target), `f(attr=...)`, `{"attr": ...}`, or a setattr() call."""
    name = re.escape(attr.encode())
    return re.compile(
        rb"\." + name + rb"\s*(?:=(?!=)|[-+*/%|&^@]=|//=|\*\*=|>>=|<<=|:[^\n=]*=|,)|[(,]\s*" + name + rb"\s*=(?!=)|['\"]" + name + rb"['\"]\s*:|setattr\s*\("
    )


def _walk_job(job: tuple[str, bool, bytes, str]) -> _ModuleWrites | None:
    module, is_package, data, attr = job
    try:
        tree, lowered = newer_syntax.parse(data)
        text = SourceText(lowered if lowered is not None else decode(data))
        return _ModuleWrites(module, is_package, tree, text, attr)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None



class _ModuleWrites:
    """One module's writes of one attribute (none for ""), its Meta classes and imports, and its whole-row
    copies (`obj.pk = None` or `obj.id = None`, then a save: every field of the row written again), each
    with its line and column. Only the statements on lines that could hold them are entered."""

    def __init__(self, module: str, is_package: bool, tree: ast.Module, source: SourceText, attr: str):
        self.writes: list[tuple[int, int, Write]] = []
        self.metas: list[tuple[int, int, _Meta]] = []
        self.row_copies: list[Write] = []
        self.imports: dict[str, str] = {}  # local name -> what it imports, absolute: `R` -> `bookings.models.Reservation`
        self.star_import = False
        text = source.segment
        for node in _entered(tree, _lines_worth_entering(source.text, attr)):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for part in ast.walk(target):
                        if isinstance(part, ast.Attribute) and isinstance(part.ctx, ast.Store) and part.attr == attr:
                            value = text(node.value)
                            write = Write(module, node.lineno, f"{text(part)} = ...", value, _empty(node.value), _from_user(value))
                            self.writes.append((node.lineno, node.col_offset, write))
                if _empty(node.value) and any(isinstance(t, ast.Attribute) and t.attr in {"pk", "id"} for t in targets):
                    self.row_copies.append(Write(module, node.lineno, "a copy of a whole row (pk set to None, then saved)", "", by_user=True))
            elif isinstance(node, ast.Call) and attr:
                self.writes += [(node.lineno, node.col_offset, write) for name, write in _call_writes(module, node, text) if name == attr]
            elif isinstance(node, ast.ClassDef) and node.name == "Meta":
                meta = _Meta.read(module, node)
                if meta is not None:
                    self.metas.append((node.lineno, node.col_offset, meta))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self.imports[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(module, is_package, node.module or "", node.level)
                for alias in node.names:
                    if alias.name == "*":
                        self.star_import = True
                    else:
                        self.imports[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
        self.writes.sort(key=lambda entry: entry[:2])
        self.metas.sort(key=lambda entry: entry[:2])
        self.row_copies.sort(key=lambda write: write.line)

    def traces(self, meta: _Meta) -> tuple[str, str] | None:
        """(module, class) the Meta's model names, read from this module alone (nothing is loaded, so that
        the index stays as it was): through what the module imports, or a class of its own; None when
        the name cannot be traced (computed, or from a star import), which may be any model."""
        if not meta.model:
            return None
        head, _, rest = meta.model.partition(".")
        if head in self.imports:
            full = self.imports[head] + (f".{rest}" if rest else "")
        elif self.star_import:
            return None
        else:
            full = f"{meta.module}.{meta.model}"
        where, _, name = full.rpartition(".")
        return where, name


def _lines_worth_entering(text: str, attr: str) -> list[int]:
    """The lines a write of `attr`, a Meta class, an import or a row copy can start on or run through."""
    pattern = WORTH_ENTERING if not attr else re.compile(rf"\b{re.escape(attr)}\b|{WORTH_ENTERING.pattern}", re.MULTILINE)
    starts = [0, *(match.end() for match in re.finditer("\n", text))]
    return sorted({bisect.bisect_right(starts, match.start()) for match in pattern.finditer(text)})


def _entered(tree: ast.Module, lines: list[int]):
    """The nodes of the tree whose lines hold one of `lines` (and nodes without lines), depth first."""
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        start = getattr(node, "lineno", None)
        if start is not None:
            index = bisect.bisect_left(lines, start)
            if index == len(lines) or lines[index] > (node.end_lineno or start):
                continue
        yield node
        pending.extend(reversed(child_nodes(node)))


def _absolute(module: str, is_package: bool, name: str, level: int) -> str:
    """The module a `from ... import` names, absolute; relative imports count from the module's package."""
    if not level:
        return name
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*parts, name] if name else parts)


@functools.lru_cache(maxsize=65536)  # the same few (module, module) pairs come back for every attribute
def _same_module(written: str, actual: str) -> bool:
    """`bookings.models` names `backend.bookings.models` (another sys.path entry), and a package that
    re-exports its submodules' classes (`bookings.models` for `bookings.models.reservation`)."""
    return (
        written == actual or actual.endswith(f".{written}") or written.endswith(f".{actual}")
        or actual.startswith(f"{written}.") or any(actual.startswith(f"{suffix}.") for suffix in _suffixes(written))
    )


def _suffixes(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [".".join(parts[i:]) for i in range(1, len(parts))]


def _call_writes(module: str, call: ast.Call, text) -> list[tuple[str, Write]]:
    """(attribute, write) for what a call writes: `setattr(obj, "a", v)`, `create(a=v)`, `defaults={"a": v}`."""
    name = dotted(call.func) or ""
    last = call.func.attr if isinstance(call.func, ast.Attribute) else name
    found = []
    if last == "setattr" and len(call.args) == 3 and isinstance(call.args[1], ast.Constant) and isinstance(call.args[1].value, str):
        found.append((call.args[1].value, Write(module, call.lineno, "setattr(...)", text(call.args[2]), _empty(call.args[2]))))
    if last in READS:
        return found
    for keyword in call.keywords:
        if keyword.arg == "defaults" and isinstance(keyword.value, ast.Dict):
            for key, value in zip(keyword.value.keys, keyword.value.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    found.append((key.value, Write(module, call.lineno, f"{last}(defaults={{{key.value!r}: ...}})", text(value), _empty(value))))
        elif keyword.arg:
            value = text(keyword.value)
            found.append((keyword.arg, Write(module, call.lineno, f"{last}({keyword.arg}=...)", value, _empty(keyword.value), _from_user(value))))
    return found


@dataclass(frozen=True)
class _Meta:
    """A ModelForm's or serializer's Meta: the model it names and the fields it lets a user fill."""

    module: str
    line: int
    model: str  # as written
    fields: frozenset[str] | None  # None: "__all__"
    exclude: frozenset[str] | None
    read_only: frozenset[str]

    @classmethod
    def read(cls, module: str, meta: ast.ClassDef) -> _Meta | None:
        options = {t.id: s.value for s in meta.body if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)}
        if "model" not in options:
            return None
        fields = options.get("fields")
        every = isinstance(fields, ast.Constant) and fields.value == "__all__"
        exclude = frozenset(_strings(options["exclude"])) if fields is None and "exclude" in options else None
        return cls(module, meta.lineno, dotted(options["model"]) or "", None if every else frozenset(_strings(fields)),
                   exclude, frozenset(_strings(options.get("read_only_fields"))))

    def takes(self, attr: str) -> bool:
        """Its fields include the attribute (or "__all__", or an `exclude` that leaves it in), and it is
        not read-only there."""
        if attr in self.read_only:
            return False
        if self.exclude is not None:
            return attr not in self.exclude
        return self.fields is None or attr in self.fields


def _from_user(value: str) -> bool:
    return any(word in value for word in USER_INPUT)


def _strings(node) -> set[str]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return set()


def _empty(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in EMPTY
