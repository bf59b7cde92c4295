"""The project index: modules loaded lazily from summaries, names resolved across imports,
Celery tasks, Django models and the functions reachable from tasks."""

from __future__ import annotations

import ast
import collections
from dataclasses import dataclass, field
from pathlib import Path

from . import effects, facts
from .config import Config
from .entities import FunctionKey, LoadedFile, Model, ParseError, Reach, Symbol, Task
from .files import SourceFile
from .loader import Cache, Loader
from .source import SourceText
from .project_models import ModelIndex
from .project_modules import ModuleLoading
from .project_names import NameResolution
from .project_tasks import TaskIndex
from .view import FunctionView

__all__ = ["FunctionKey", "Model", "ParseError", "Project", "Reach", "Symbol", "Task"]


@dataclass
class Project(ModuleLoading, NameResolution, TaskIndex, ModelIndex):
    """The index every rule asks: built once per run, loading modules only as look-ups need them."""

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
        self._files: dict[str, LoadedFile] = {}
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
        self._names_spelled: dict[bytes, list[str]] | None = None  # name -> the modules that spell it, once asked
        self._cache_backends: list[tuple[str, str, str]] | None = None
        self._celery_config = None  # see ModelIndex.celery_config
        self._model_memo: dict[tuple[str, str], Model | None] = {}
        self._lookup_index: dict[str, list[tuple[FunctionKey, facts.Lookup]]] = {}  # receiver's last name -> lookups
        self._lookups_indexed = 0  # the first so many entries of the function list are in the lookup index
        self._lookup_answers: dict[tuple[str, str], tuple[int, list]] = {}  # model -> (entries indexed, its lookups)
        self._receiver_models: dict[tuple[str, str], tuple[str, str] | None] = {}
        self._signals_loaded = False
        self._registration_list: list = []  # see ModelIndex._registrations
        self._registrations_indexed = 0
        self._displays: dict[str, str] = {}
        self._sources: dict[str, SourceText | None] = {}
        self._function_texts: dict[FunctionKey, str] = {}
        self._views: dict[FunctionKey, FunctionView | None] = {}
        declared = effects.declare(self.config.section.get("effects", {}))  # before any file is summarized
        self.loader = Loader(self.cache or Cache(self.cache_dir, declared), jobs=self.jobs, overlay=self.overlay, on_progress=self.on_progress)
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
        self._writers = None
        self._guards = None
        self._aggregates = None
        self._singleton_tasks: dict[FunctionKey, str] | None = None

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
    def singleton_tasks(self) -> dict[FunctionKey, str]:
        """The tasks built on celery_singleton's Singleton, by key (made on first use: most projects have none)."""
        if self._singleton_tasks is None:
            self._singleton_tasks = {t.key: t.key.qualname for t in self.tasks if t.options.get("singleton")}
        return self._singleton_tasks

    @property
    def aggregates(self):
        """Functions that build a fresh aggregate per run (see `engine/aggregates.py`), made on first use."""
        if self._aggregates is None:
            from .aggregates import Aggregates

            self._aggregates = Aggregates(self)
        return self._aggregates

    @property
    def guards(self):
        """What already makes a repeat skip a call (see `engine/guards.py`), made on first use."""
        if self._guards is None:
            from .guards import Guards

            self._guards = Guards(self)
        return self._guards

    @property
    def writers(self):
        """Where the project writes each attribute (see `engine/writers.py`), made on first use."""
        if self._writers is None:
            from .writers import AttributeWriters

            self._writers = AttributeWriters(self)
        return self._writers

    @property
    def stats(self):
        return self.loader.stats

    def load_state(self) -> tuple[int, int, int]:
        """Changes when a look-up loads (or fails to load) a module, after which look-ups may answer
        differently: rules run side by side compare it (see `pool.as_if_serial`)."""
        return len(self.modules), len(self.errors), self.loader.stats.summarized
