"""The project index: modules loaded lazily from summaries, names resolved across imports,
Celery tasks, Django models and the functions reachable from tasks."""

from __future__ import annotations

import ast
import collections
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from . import facts
from .config import Config
from .files import SourceFile, display_path
from .loader import Cache, Entry, Loader
from .source import SourceText, decode, parse_function
from .view import FunctionView

CELERY_TASK_DECORATORS = frozenset(
    {
        "celery.shared_task",
        "celery.task",
        "celery.app.shared_task",
        "celery.decorators.task",
        "celery.decorators.periodic_task",
        "celery.task.task",
        "celery.task.periodic_task",
        "celery.task.base.task",
        "celery.task.base.periodic_task",
    }
)
CELERY_TASK_CLASSES = frozenset({"celery.Task", "celery.app.task.Task", "celery.task.Task", "celery.task.base.Task"})
USER_BASES = frozenset({"AbstractUser", "AbstractBaseUser"})
# Files that belong to a project's tests, not to what it runs: test modules, fixtures, factories.
TEST_MODULE = re.compile(r"(^|/)(tests?|testing|fixtures)/|(^|/)(test_[^/]*|[^/]*_tests?|conftest|factories|tests|test_settings)\.py$")
DJANGO_MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
_APP_LIKE = ("app", "celery", "celery_app")


# Symbols and keys are made and hashed by the hundred thousand: named tuples, not frozen dataclasses
# (whose __init__ and __hash__ run in Python).
class Symbol(NamedTuple):
    kind: str  # "module" | "function" | "class" | "app" | "external" | "unknown"
    module: str = ""
    name: str = ""  # qualname inside the module, or the dotted name for external / unknown


class FunctionKey(NamedTuple):
    module: str
    qualname: str


@dataclass
class Task:
    key: FunctionKey
    name: str  # what Celery calls it: module.function (or the class name for class-based tasks)
    path: str
    line: int
    how: str  # the decorator or registration that makes it a task


@dataclass
class Model:
    module: str
    name: str
    app_label: str
    fields: dict[str, facts.ModelField]
    constraints: list[facts.Constraint]
    managers: list[str]
    meta: dict[str, object] = field(default_factory=dict)  # its own class Meta's proxy / managed
    user_model: bool = False  # a subclass of AbstractUser / AbstractBaseUser: what get_user_model() returns

    @property
    def label(self) -> str:
        return f"{self.app_label}.{self.name}" if self.app_label else self.name


@dataclass
class ParseError:
    path: str
    line: int
    message: str
    absolute: Path | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


@dataclass
class Reach:
    task: Task
    via: FunctionKey | None  # the caller it was reached from (None for the task itself)


@dataclass
class _File:
    source: SourceFile
    module_name: str
    is_package: bool
    entry: Entry | None = None


@dataclass
class Project:
    files: list[SourceFile]
    config: Config = field(default_factory=Config)
    load_everything: bool = False
    cache_dir: Path | None = None  # None: no cache
    jobs: int = 1
    on_progress: object = None  # called with (files done, files to scan) while files are read
    overlay: dict = field(default_factory=dict)  # path -> bytes not on disk yet (an earlier rule's output)
    cache: Cache | None = None  # the summaries an earlier index of the same run loaded (else read from cache_dir)

    def __post_init__(self) -> None:
        self.errors: list[ParseError] = []
        self.modules: dict[str, facts.Module] = {}
        self._files: dict[str, _File] = {}
        self._reported: set[str] = set()
        self._by_suffix: dict[str, list[str]] | None = None
        self._suffix_lookups: dict[str, str | None] = {}
        self._resolving: set[tuple[str, str]] = set()
        self._trees: dict[str, ast.Module | None] = {}
        self._resolved: dict[tuple[str, str], Symbol] = {}
        self._mros: dict[FunctionKey, list[FunctionKey]] = {}
        self._subclass_index: dict[FunctionKey, list[FunctionKey]] = collections.defaultdict(list)
        self._subclass_modules_indexed = 0  # the first so many modules of self.modules are in the index
        self._subclass_modules_seen = -1  # len(self.modules) when the index was last brought up to date
        self._function_list: list[tuple[FunctionKey, facts.Function]] = []
        self._function_list_modules = 0  # the first so many modules of self.modules are in the list
        self._reachable_list: list[tuple[FunctionKey, facts.Function, Reach]] = []
        self._reachable_list_from: list | None = None  # the function list it was picked from
        self._call_targets: dict[tuple[str, str | None, str], tuple[int | None, list[FunctionKey]]] = {}
        self._reach_callees: dict[FunctionKey, list[FunctionKey]] = {}
        self._models_loaded = False
        self._signals_loaded = False
        self._displays: dict[str, str] = {}
        self._sources: dict[str, SourceText | None] = {}
        self._views: dict[FunctionKey, FunctionView | None] = {}
        self.loader = Loader(self.cache or Cache(self.cache_dir), jobs=self.jobs, overlay=self.overlay, on_progress=self.on_progress)
        self._read_files()
        wanted = {d.rsplit(".", 1)[-1] for d in self.config.task_decorators}
        self._load_where(lambda e: e.has_task_marker or bool(e.decorators & wanted), follow_imports=True)
        # Project decorators that make tasks (`@cron`) may be used in files that never say "task".
        wrappers = self._task_wrapper_names()
        self._load_where(lambda e: bool(e.decorators & wrappers))
        self.tasks = self._find_tasks()
        self.task_keys = frozenset(task.key for task in self.tasks)
        self.reach = self._reachability()
        self._graph = None
        self._provenance = None

    @property
    def provenance(self):
        """Where values come from (see `engine/provenance.py`), made on first use."""
        if self._provenance is None:
            from .provenance import Provenances

            self._provenance = Provenances(self)
        return self._provenance

    @property
    def graph(self):
        """The call graph over this index (see `engine/graph.py`), made on first use."""
        if self._graph is None:
            from .graph import CallGraph

            self._graph = CallGraph(self)
        return self._graph

    @property
    def stats(self):
        return self.loader.stats

    def load_state(self) -> tuple[int, int, int]:
        """Changes when a look-up loads (or fails to load) a module, after which look-ups may answer
        differently: rules run side by side compare it (see `pool.as_if_serial`)."""
        return len(self.modules), len(self.errors), self.loader.stats.summarized

    # --- loading ------------------------------------------------------------------------------

    def _read_files(self) -> None:
        for source in self.files:
            if source.problem:
                self.errors.append(ParseError(source.display, 0, source.problem, source.path))
                continue
            name, is_package = _module_name(source.path, source.root)
            self._files[name] = _File(source, name, is_package)
        by_path = {file.source.path: file for file in self._files.values()}
        jobs = [(f.source.path, f.module_name, f.is_package) for f in self._files.values()]
        entries, unreadable = self.loader.load(jobs, summarize_all=self.load_everything)
        for path, entry in entries.items():
            by_path[path].entry = entry
            if entry.error is not None and not entry.summarized:  # found while reading: binary, encoding, size
                self.errors.append(ParseError(by_path[path].source.display, entry.error[0], entry.error[1], path))
                self._reported.add(by_path[path].module_name)
        for path, reason in unreadable.items():
            file = by_path[path]
            self.errors.append(ParseError(file.source.display, 0, f"cannot read: {reason}", path))
            del self._files[file.module_name]

    def _load_where(self, wanted, follow_imports: bool = False) -> None:
        """Load the modules `wanted` picks (every module with --scope all); with `follow_imports`, first
        summarize in one parallel batch every project module they import, transitively: resolving
        names and following calls from tasks would summarize most of them one by one anyway. Those
        are only summarized, not loaded: what the index holds (tasks, subclasses) must not depend on
        what a text search of imports found, or on what an earlier run left in the cache."""
        chosen = [
            file for name, file in self._files.items()
            if name not in self.modules and file.entry is not None and (self.load_everything or wanted(file.entry))
        ]
        batch = [*chosen, *self._imported_by(chosen)] if follow_imports else chosen
        self.loader.summarize_all([(file.source.path, file.entry) for file in batch])
        for file in chosen:
            self.module(file.module_name)

    def _imported_by(self, files: list[_File]) -> list[_File]:
        """Project files that `files` import, directly or not, as their import statements read."""
        seen = {file.module_name for file in files}
        found: list[_File] = []
        pending = list(files)
        while pending:
            for name in sorted(pending.pop().entry.imports):
                target = self._files.get(name) or self._files.get(self._by_suffix_lookup(name) or "")
                if target is not None and target.entry is not None and target.module_name not in seen:
                    seen.add(target.module_name)
                    found.append(target)
                    pending.append(target)
        return found

    def _task_wrapper_names(self) -> set[str]:
        names = set()
        for summary in list(self.modules.values()):
            for function in summary.functions.values():
                if function.refs and self._is_task_wrapper(Symbol("function", summary.name, function.name), frozenset()):
                    names.add(function.name)
        return names

    def module(self, name: str) -> facts.Module | None:
        if name in self.modules:
            return self.modules[name]
        file = self._files.get(name) or self._files.get(self._by_suffix_lookup(name) or "")
        if file is None or file.entry is None:
            return None
        if file.module_name in self.modules:
            return self.modules[file.module_name]
        entry = file.entry
        if not entry.summarized:
            self.loader.summarize_later(file.source.path, entry)
        if entry.error is not None:
            if file.module_name not in self._reported:
                self._reported.add(file.module_name)
                line, message = entry.error
                self.errors.append(ParseError(file.source.display, line, message, file.source.path))
            return None
        summary = self.modules[file.module_name] = entry.summary.get()
        return summary

    def _by_suffix_lookup(self, name: str) -> str | None:
        """`backend.payments.models` for an import of `payments.models` (or the other way round). Asked
        for every dotted name resolved, external ones too: answers are kept (the files are read once)."""
        if name not in self._suffix_lookups:
            self._suffix_lookups[name] = self._find_by_suffix(name)
        return self._suffix_lookups[name]

    def _find_by_suffix(self, name: str) -> str | None:
        if self._by_suffix is None:
            self._by_suffix = collections.defaultdict(list)
            for known in self._files:
                parts = known.split(".")
                for i in range(1, len(parts)):
                    self._by_suffix[".".join(parts[i:])].append(known)
        candidates = self._by_suffix.get(name, [])
        if len(candidates) == 1:
            return candidates[0]
        parts = name.split(".")
        for i in range(1, len(parts)):
            if ".".join(parts[i:]) in self._files and len(parts) - i > 1:
                return ".".join(parts[i:])
        return None

    def source_bytes(self, module: str) -> bytes:
        """The module's current source: an earlier rule's output in this run, else the file."""
        path = self._files[module].source.path
        return self.overlay[path] if path in self.overlay else path.read_bytes()

    def source(self, module: str) -> SourceText | None:
        """The module's text (with its lines and suppression comments), read once per run."""
        if module not in self._sources:
            try:
                self._sources[module] = SourceText(decode(self.source_bytes(module)))
            except (OSError, KeyError):
                self._sources[module] = None
        return self._sources[module]

    def tree(self, module: str) -> ast.Module | None:
        """The module's `ast`, parsed on demand for the few files a question needs whole."""
        if module not in self._trees:
            source = self.source(module) if module in self._files else None
            try:
                self._trees[module] = ast.parse(source.text) if source is not None else None
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                self._trees[module] = None
        return self._trees[module]

    def module_level_names(self, module: str) -> set[str]:
        """Names a module binds at its top level: imports, functions, classes and assignments."""
        summary = self.module(module)
        names = set(summary.imports) | set(summary.functions) | set(summary.classes) if summary else set()
        tree = self.tree(module)
        for node in tree.body if tree is not None else ():
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        return names

    def view(self, key: FunctionKey) -> FunctionView | None:
        """The function's view (see `engine/view.py`), parsed from its own lines once per run."""
        if key not in self._views:
            self._views[key] = None
            function = self.function(key)
            summary = self.module(key.module)
            source = self.source(key.module) if function is not None else None
            if source is not None and summary is not None:
                node = parse_function(source.lines, function) or self._node_in_tree(key.module, function)
                if node is not None:
                    self._views[key] = FunctionView(key, function, node, source, summary.imports)
        return self._views[key]

    def _node_in_tree(self, module: str, function: facts.Function) -> ast.AST | None:
        """A function whose lines do not parse alone (a backslash continuation, say): from the module's tree."""
        tree = self.tree(module)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (node.name, node.lineno) == (function.name, function.line):
                return node
        return None

    def modules_mentioning(self, word: str) -> list[str]:
        """Project modules whose text spells `word` as a name: every file, loaded or not, read once per
        question (a bytes search; only the files found are parsed by whoever asked)."""
        pattern = re.compile(rb"\b" + re.escape(word.encode()) + rb"\b")
        found = []
        for name, file in self._files.items():
            try:
                data = self.overlay.get(file.source.path) or file.source.path.read_bytes()
            except OSError:
                continue
            if pattern.search(data):
                found.append(name)
        return found

    def has_module(self, name: str) -> bool:
        return name in self._files or self._by_suffix_lookup(name) is not None

    def source_of(self, module: str) -> SourceFile:
        return self._files[module].source

    def display(self, module: str) -> str:
        """The path users see (os.path.relpath is slow enough to matter once per finding)."""
        shown = self._displays.get(module)
        if shown is None:
            shown = self._displays[module] = display_path(self._files[module].source.path)
        return shown

    # --- names --------------------------------------------------------------------------------

    def resolve(self, module: str, dotted: str) -> Symbol:
        key = (module, dotted)
        found = self._resolved.get(key)
        if found is None:
            head, *rest = dotted.split(".")
            found = self._resolve_name(module, head)
            for attr in rest:
                found = self._member(found, attr)
            if not self._resolving:  # results met inside an import cycle may be partial: keep only whole ones
                self._resolved[key] = found
        return found

    def _resolve_name(self, module: str, name: str) -> Symbol:
        summary = self.module(module)
        if summary is None:
            return Symbol("unknown", module, name)
        if name in summary.functions:
            return Symbol("function", summary.name, name)
        if name in summary.classes:
            return Symbol("class", summary.name, name)
        if name in summary.celery_apps:
            return Symbol("app", summary.name, name)
        if name in summary.imports:
            key = (summary.name, name)
            if key in self._resolving:  # an import cycle
                return Symbol("unknown", summary.name, name)
            self._resolving.add(key)
            try:
                return self._resolve_qualified(summary.imports[name])
            finally:
                self._resolving.discard(key)
        for star in summary.star_imports:
            if self.has_module(star):
                found = self._resolve_name(self._canonical(star), name)
                if found.kind != "unknown":
                    return found
        if self.has_module(f"{summary.name}.{name}") and summary.is_package:
            return Symbol("module", self._canonical(f"{summary.name}.{name}"))
        return Symbol("unknown", summary.name, name)

    def _canonical(self, module: str) -> str:
        return module if module in self._files else (self._by_suffix_lookup(module) or module)

    def _resolve_qualified(self, dotted: str) -> Symbol:
        if self.has_module(dotted):
            return Symbol("module", self._canonical(dotted))
        parts = dotted.split(".")
        for i in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:i])
            if self.has_module(prefix):
                symbol = self._resolve_name(self._canonical(prefix), parts[i])
                for attr in parts[i + 1 :]:
                    symbol = self._member(symbol, attr)
                if symbol.kind == "unknown":
                    return Symbol("external", name=dotted)
                return symbol
        return Symbol("external", name=dotted)

    def _member(self, symbol: Symbol, attr: str) -> Symbol:
        if symbol.kind == "module":
            return self._resolve_name(symbol.module, attr)
        if symbol.kind == "class":
            for owner in self.mro(symbol.module, symbol.name):
                cls = self.cls(owner)
                if cls and attr in cls.methods:
                    return Symbol("function", owner.module, f"{owner.qualname}.{attr}")
            return Symbol("unknown", symbol.module, f"{symbol.name}.{attr}")
        if symbol.kind == "external":
            return Symbol("external", name=f"{symbol.name}.{attr}")
        if symbol.kind == "app":
            return Symbol("external", name=f"<celery app>.{attr}")
        return Symbol("unknown", symbol.module, f"{symbol.name}.{attr}")

    # --- functions and classes ----------------------------------------------------------------

    def function(self, key: FunctionKey) -> facts.Function | None:
        summary = self.module(key.module)
        if summary is None:
            return None
        name, _, method = key.qualname.partition(".")
        if not method:
            return summary.functions.get(name)
        cls = summary.classes.get(name)
        return cls.methods.get(method) if cls else None

    def cls(self, key: FunctionKey) -> facts.Class | None:
        summary = self.module(key.module)
        return summary.classes.get(key.qualname) if summary else None

    def mro(self, module: str, name: str) -> list[FunctionKey]:
        """The class and its project base classes, depth first, each once."""
        found = self._mros.get((module, name))  # a plain tuple finds a FunctionKey, and is cheaper to make
        if found is None:
            found = self._mros[FunctionKey(module, name)] = self._compute_mro(module, name)
        return found

    def _subclasses(self, base: FunctionKey) -> list[FunctionKey]:
        """Loaded project classes with `base` among their ancestors (a list that grows: read it at once).
        Modules are only ever added, at the end of self.modules, so the index grows by the modules added
        since it was last brought up to date; modules that indexing itself loads (resolving bases) are
        indexed by the next look-up that finds more modules loaded."""
        if self._subclass_modules_seen != len(self.modules):
            added = list(self.modules.values())[self._subclass_modules_indexed :]
            self._subclass_modules_indexed += len(added)
            for summary in added:
                for other in summary.classes.values():
                    key = FunctionKey(summary.name, other.name)
                    for ancestor in self.mro(summary.name, other.name)[1:]:
                        self._subclass_index[ancestor].append(key)
            self._subclass_modules_seen = len(self.modules)
        return self._subclass_index.get(base, [])

    def _compute_mro(self, module: str, name: str) -> list[FunctionKey]:
        order: list[FunctionKey] = []
        pending = [FunctionKey(module, name)]
        while pending:
            key = pending.pop(0)
            if key in order:
                continue
            cls = self.cls(key)
            if cls is None:
                continue
            order.append(key)
            for base in cls.bases:
                symbol = self.resolve(key.module, base)
                if symbol.kind == "class":
                    pending.append(FunctionKey(symbol.module, symbol.name))
        return order

    def class_sets(self, module: str, name: str, attribute: str) -> bool:
        """The class or one of its project base classes assigns `attribute` in its body."""
        return any(attribute in self.cls(key).attributes for key in self.mro(module, name))

    def external_bases(self, module: str, name: str) -> set[str]:
        """Dotted names of the non-project classes anywhere in the class's ancestry."""
        found: set[str] = set()
        for key in self.mro(module, name):
            for base in self.cls(key).bases:
                symbol = self.resolve(key.module, base)
                if symbol.kind in {"external", "unknown"}:
                    found.add(symbol.name)
                elif symbol.kind == "app":
                    found.add(f"<celery app>.{base.rsplit('.', 1)[-1]}")
        return found

    def all_functions(self):
        """(FunctionKey, Function) for every function and method of every loaded module."""
        yield from self._functions()

    def _functions(self) -> list[tuple[FunctionKey, facts.Function]]:
        """The list behind all_functions(), which rules walk again and again: extended with the modules
        loaded since the last call, into a new list, so that a walk under way keeps the modules it began with."""
        if self._function_list_modules != len(self.modules):
            added = list(self.modules.values())[self._function_list_modules :]
            self._function_list_modules += len(added)
            listed = []
            for summary in added:
                for function in summary.functions.values():
                    listed.append((FunctionKey(summary.name, function.qualname), function))
                for cls in summary.classes.values():
                    for method in cls.methods.values():
                        listed.append((FunctionKey(summary.name, method.qualname), method))
            self._function_list = self._function_list + listed
        return self._function_list

    def reachable_functions(self) -> list[tuple[FunctionKey, facts.Function, Reach]]:
        """(FunctionKey, Function, Reach) for the functions of all_functions() that a task reaches, in the
        same order: what every rule walks by default, usually a small part of the project. Picked again
        only when the function list has grown."""
        functions = self._functions()
        if self._reachable_list_from is not functions:
            self._reachable_list = [(key, function, self.reach[key]) for key, function in functions if key in self.reach]
            self._reachable_list_from = functions
        return self._reachable_list

    # --- Celery tasks -------------------------------------------------------------------------

    def is_task_decorator(self, module: str, target: str, seen: frozenset = frozenset()) -> bool:
        symbol = self.resolve(module, target)
        written_last = target.rsplit(".", 1)[-1]
        if symbol.kind == "external":
            if symbol.name in CELERY_TASK_DECORATORS or symbol.name == "<celery app>.task":
                return True
            head = target.split(".")[0]
            if written_last == "task" and "." in target and (head in _APP_LIKE or head.endswith("_app")):
                return True
        if target in self.config.task_decorators or symbol.name in self.config.task_decorators:
            return True
        if symbol.kind == "function" and symbol not in seen:
            return self._is_task_wrapper(symbol, seen | {symbol})
        return False

    def _is_task_wrapper(self, symbol: Symbol, seen: frozenset) -> bool:
        """A project decorator that applies `shared_task` / `app.task` itself, like a `@cron_task`."""
        function = self.function(FunctionKey(symbol.module, symbol.name))
        if function is None:
            return False
        return any(self.is_task_decorator(symbol.module, ref, seen) for ref in function.refs)

    def _is_task_class(self, module: str, name: str) -> bool:
        bases = self.external_bases(module, name)
        return bool(bases & CELERY_TASK_CLASSES) or "<celery app>.Task" in bases

    def _find_tasks(self) -> list[Task]:
        tasks: dict[FunctionKey, Task] = {}
        for summary in list(self.modules.values()):
            for function in summary.functions.values():
                for decorator in function.decorators:
                    if self.is_task_decorator(summary.name, decorator.target):
                        key = FunctionKey(summary.name, function.qualname)
                        name = str(decorator.options.get("name") or f"{self.import_name(summary.name)}.{function.name}")
                        tasks[key] = Task(key, name, self.display(summary.name), function.line, "@" + decorator.target)
                        break
            for cls in summary.classes.values():
                if "run" in cls.methods and self._is_task_class(summary.name, cls.name):
                    key = FunctionKey(summary.name, f"{cls.name}.run")
                    tasks[key] = Task(key, f"{self.import_name(summary.name)}.{cls.name}", self.display(summary.name), cls.line, "Task subclass")
            for callee, registered in summary.registrations:
                if not (self.is_task_decorator(summary.name, callee) or callee.endswith(".register_task")):
                    continue
                symbol = self.resolve(summary.name, registered)
                if symbol.kind == "class":
                    symbol = self._member(symbol, "run")
                if symbol.kind == "function":
                    key = FunctionKey(symbol.module, symbol.name)
                    function = self.function(key)
                    if function and key not in tasks:
                        name = f"{self.import_name(symbol.module)}.{symbol.name.split('.')[0]}"
                        tasks[key] = Task(key, name, self.display(symbol.module), function.line, f"{callee}({registered})")
        return sorted(tasks.values(), key=lambda t: (t.path, t.line))

    def import_name(self, module: str) -> str:
        """The name the module is imported by, as Celery names its tasks: from the outermost folder of an
        unbroken chain of packages (`backend/src/shop/tasks.py` -> `shop.tasks` when only shop/ has an
        __init__.py); the name from the run's folder when no folder above the file is a package."""
        parts = module.split(".")
        start = len(parts) - 1
        while start > 0 and (file := self._files.get(".".join(parts[:start]))) is not None and file.is_package:
            start -= 1
        return ".".join(parts[start:]) if start < len(parts) - 1 else module

    # --- reachability -------------------------------------------------------------------------

    def _reachability(self) -> dict[FunctionKey, Reach]:
        reach: dict[FunctionKey, Reach] = {}
        queue: collections.deque[FunctionKey] = collections.deque()
        for task in self.tasks:
            if task.key not in reach:
                reach[task.key] = Reach(task, None)
                queue.append(task.key)
        while queue:
            key = queue.popleft()
            function = self.function(key)
            if function is None:
                continue
            task = reach[key].task
            for reference in function.calls:
                for target in self.call_targets(key, reference):
                    if target not in reach:
                        reach[target] = Reach(task, key)
                        queue.append(target)
        return reach

    def call_targets(self, caller: FunctionKey, reference: str) -> list[FunctionKey]:
        """What a call in `caller` may run (a list to read, not to change). Kept per module, class and
        reference: the targets follow from names and MROs, kept for the run too, except those of `self.x()`,
        which include subclasses of the loaded modules: they are kept until another module loads."""
        owner = caller.qualname.split(".", 1)[0] if "." in caller.qualname else None
        memo = (caller.module, owner, reference)
        known = self._call_targets.get(memo)
        if known is not None and (known[0] is None or known[0] == len(self.modules)):
            return known[1]
        targets, with_subclasses = self._find_call_targets(caller.module, owner, reference)
        self._call_targets[memo] = (len(self.modules) if with_subclasses else None, targets)
        return targets

    def _find_call_targets(self, module: str, owner: str | None, reference: str) -> tuple[list[FunctionKey], bool]:
        """call_targets(), and whether the loaded subclasses took part."""
        if reference.startswith("new:"):
            cls_name, _, method = reference[4:].rpartition(".")
            symbol = self.resolve(module, cls_name)
            if symbol.kind != "class":
                return [], False
            found = self._method_targets(symbol.module, symbol.name, method)
            return found + self._method_targets(symbol.module, symbol.name, "__init__"), False
        head, _, method = reference.partition(".")
        if head in {"self", "cls"} and owner and method and "." not in method:
            return self._method_targets(module, owner, method, include_subclasses=True), True
        if head == "super" and owner:
            mro = self.mro(module, owner)[1:]
            return [k for base in mro[:1] for k in self._method_targets(base.module, base.qualname, method)], False
        symbol = self.resolve(module, reference)
        if symbol.kind == "function":
            return [FunctionKey(symbol.module, symbol.name)], False
        if symbol.kind == "class":
            return self._method_targets(symbol.module, symbol.name, "__init__"), False
        return [], False

    def _method_targets(self, module: str, cls: str, method: str, include_subclasses: bool = False) -> list[FunctionKey]:
        targets = []
        for owner in self.mro(module, cls):
            found = self.cls(owner)
            if found and method in found.methods:
                targets.append(FunctionKey(owner.module, f"{owner.qualname}.{method}"))
                break
        if include_subclasses:
            for key in self._subclasses(FunctionKey(module, cls)):
                other = self.cls(key)
                if other and method in other.methods:
                    targets.append(FunctionKey(key.module, f"{key.qualname}.{method}"))
        return targets

    def reachable_from(self, start: FunctionKey) -> list[FunctionKey]:
        """Every function a function reaches (a task's whole run), itself first, in breadth-first order."""
        order = [start]
        seen = {start}
        for key in order:  # read while it grows: breadth first
            for target in self.callees(key):
                if target not in seen:
                    seen.add(target)
                    order.append(target)
        return order

    def callees(self, key: FunctionKey) -> list[FunctionKey]:
        """What the function's calls may run, each once, in call order, as reachable_from() first found it:
        its walks share what they found (with more modules loaded since, `self.x()` could find more)."""
        found = self._reach_callees.get(key)
        if found is None:
            function = self.function(key)
            unique: dict[FunctionKey, None] = {}
            for reference in function.calls if function else ():
                unique.update(dict.fromkeys(self.call_targets(key, reference)))
            found = self._reach_callees[key] = list(unique)
        return found

    def reachable(self, key: FunctionKey) -> Reach | None:
        return self.reach.get(key)

    # --- Django models ------------------------------------------------------------------------

    def model(self, module: str, name: str) -> Model | None:
        if not self._is_model_class(module, name):
            return None
        fields: dict[str, facts.ModelField] = {}
        constraints: list[facts.Constraint] = []
        managers: list[str] = []
        for owner in reversed(self.mro(module, name)):  # bases first, so subclasses override
            cls = self.cls(owner)
            fields.update(cls.fields)
            constraints.extend(c for c in cls.constraints if c not in constraints)
            managers.extend(cls.managers)
        own = self.cls(FunctionKey(module, name))
        bases = {b.rsplit(".", 1)[-1] for b in self.external_bases(module, name)}
        return Model(module, name, _app_label(module), fields, constraints, managers, own.meta, bool(bases & USER_BASES))

    def _is_model_class(self, module: str, name: str) -> bool:
        if not self.cls(FunctionKey(module, name)):
            return False
        for base in self.external_bases(module, name):
            last = base.rsplit(".", 1)[-1]
            if base in DJANGO_MODEL_BASES or last.endswith("Model") or last in {"AbstractUser", "AbstractBaseUser"}:
                return True
        return False

    def related_manager(self, manager: str) -> list[tuple[Model, str]]:
        """Models reached through `obj.<manager>` (a reverse ForeignKey), with the ForeignKey's field name."""
        if not hasattr(self, "_related"):
            self._related: dict[str, list[tuple[Model, str]]] = collections.defaultdict(list)
            for model in self.all_models():
                for relation in model.fields.values():
                    if relation.kind in {"ForeignKey", "ParentalKey"}:
                        accessor = relation.related_name or f"{model.name.lower()}_set"
                        self._related[accessor].append((model, relation.name))
        return self._related.get(manager, [])

    def signal_handlers(self, model: Model | None, signals: frozenset[str]) -> list[FunctionKey]:
        """Project functions Django runs on these signals for a row of `model` (of any model when None):
        `@receiver(post_save, sender=Order)` and `post_save.connect(handler, sender=Order)`; handlers with
        no sender run for every model. Modules that name a model signal are loaded on the first question."""
        if not self._signals_loaded:
            self._signals_loaded = True
            self._load_where(lambda e: e.has_signal_marker)
        found: list[FunctionKey] = []
        for summary in list(self.modules.values()):
            for function in summary.functions.values():
                for decorator in function.decorators:
                    if decorator.target.rsplit(".", 1)[-1] != "receiver":
                        continue
                    if any(a.rsplit(".", 1)[-1] in signals for a in decorator.arguments) and self._is_sender(
                        summary.name, decorator.references.get("sender", ""), model
                    ):
                        found.append(FunctionKey(summary.name, function.qualname))
            for signal, handler, sender in summary.signal_connections:
                if signal.rsplit(".", 1)[-1] in signals and self._is_sender(summary.name, sender, model):
                    symbol = self.resolve(summary.name, handler)
                    if symbol.kind == "function":
                        found.append(FunctionKey(symbol.module, symbol.name))
        return list(dict.fromkeys(found))

    def _is_sender(self, module: str, sender: str, model: Model | None) -> bool:
        if not sender or model is None:
            return True
        symbol = self.resolve(module, sender)
        return symbol.kind == "class" and (symbol.module, symbol.name) == (model.module, model.name)

    def model_of(self, module: str, receiver: str) -> Model | None:
        """The model a receiver written in `module` names: `Payout`, `models.Payout`."""
        symbol = self.resolve(module, receiver)
        return self.model(symbol.module, symbol.name) if symbol.kind == "class" else None

    def lookups_of(self, model: Model) -> list[tuple[FunctionKey, facts.Lookup]]:
        """The queries loaded project code makes on `model`'s manager with named fields: how the project
        itself finds its rows."""
        found = []
        for key, function in self.all_functions():
            for lookup in function.lookups:
                named = self.model_of(key.module, lookup.receiver)
                if named is not None and (named.module, named.name) == (model.module, model.name):
                    found.append((key, lookup))
        return found

    def user_models(self) -> list[Model]:
        """The project's user model (what `get_user_model()` returns), when it defines one. Model files
        are loaded for it only when some file names a user base class."""
        if not any(self.modules_mentioning(base) for base in USER_BASES):
            return []
        return [m for m in self.all_models() if m.user_model]

    def cache_backends(self) -> list[tuple[str, str, str]]:
        """(backend, where, module) of the default cache each settings module configures: `CACHES =
        {"default": {"BACKEND": "..."}}` ("" when computed); none found means Django's LocMemCache. Test
        settings are left out: they configure the tests' cache, not the workers'."""
        found = []
        for module in self.modules_mentioning("CACHES"):
            if TEST_MODULE.search(self.source_of(module).path.as_posix()):
                continue
            tree = self.tree(module)
            for node in tree.body if tree is not None else ():
                if not (isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict)):
                    continue
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == "CACHES" for t in targets):
                    found.append((_default_backend(node.value), f"{self.display(module)}:{node.lineno}", module))
        return found

    def celery_settings(self) -> list[tuple[str, facts.Setting]]:
        """(module, setting) for every Celery setting written in the project."""
        self._load_where(lambda e: e.has_config_marker)
        return [(summary.name, setting) for summary in list(self.modules.values()) for setting in summary.settings]

    def all_models(self) -> list[Model]:
        if not self._models_loaded:  # model files are otherwise loaded only as imports lead to them
            self._models_loaded = True
            self._load_where(lambda e: e.has_model_marker)
        found = []
        for summary in list(self.modules.values()):
            for cls in summary.classes.values():
                model = self.model(summary.name, cls.name)
                if model is not None:
                    found.append(model)
        return found


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    """Dotted name from the folder the run reads: folders without __init__.py still name a
    (namespace) package; imports written from another sys.path entry resolve by suffix."""
    is_package = path.name == "__init__.py"
    try:
        parts = list(path.relative_to(root).parts)
    except ValueError:
        parts = [path.name]
    parts[-1] = parts[-1][: -len(".py")]
    if is_package:
        parts.pop()
    return ".".join(parts) or root.name, is_package


def _app_label(module: str) -> str:
    parts = module.split(".")
    if "models" in parts:
        parts = parts[: parts.index("models")]
    else:
        parts = parts[:-1]
    return parts[-1] if parts else ""


def _default_backend(caches: ast.Dict) -> str:
    """The "default" entry's BACKEND, as written ("" when it is computed)."""
    for key, value in zip(caches.keys, caches.values):
        if isinstance(key, ast.Constant) and key.value == "default" and isinstance(value, ast.Dict):
            for option, setting in zip(value.keys, value.values):
                if isinstance(option, ast.Constant) and option.value == "BACKEND" and isinstance(setting, ast.Constant):
                    return str(setting.value)
    return ""

