"""Reading and summarizing files: a byte prefilter, a process pool for cold runs, and a cache keyed by
content hash and engine version so that a warm run on an unchanged repo only stats files."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import celery_settings, facts
from .cache_dir import prepare_cache_dir
from .pool import parallel_map
from .sealed import read_sealed, write_sealed

# Files holding these bytes may define tasks; they are summarized up front. Everything else is
# summarized only when an import or a model lookup leads to it.
TASK_MARKERS = (b"task", b"Task")
MODEL_MARKERS = (b"Field(", b"ForeignKey(")
# Words the settings checks look for in every file, noted during the scan that reads each file anyway
# (a search of every file later would read them all again): a cache configuration, the settings module.
SETTINGS_WORDS = (b"CACHES", b"DJANGO_SETTINGS_MODULE")
SIGNAL_MARKERS = (b"post_save", b"pre_save", b"post_delete", b"pre_delete")
_DECORATOR = re.compile(rb"@\s*([A-Za-z_][\w.]*)")
_FROM_IMPORT = re.compile(rb"[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]*(?:\(([^)]*)\)|([^\n#;]*))")
_IMPORT = re.compile(rb"[ \t]*import[ \t]+([\w., \t]+)")
MAX_BYTES = 5_000_000
_POOL_THRESHOLD = 200  # below this many files to scan, a pool costs more than it saves
_BATCH_POOL_THRESHOLD = 24  # the same for files to summarize (each costs far more than a scan)


def _engine_digest() -> str:
    """Summaries depend on the code that makes them: any change to it invalidates the cache."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in ("facts.py", "summarize.py", "summarize_creates.py", "summarize_models.py", "effects.py", "loader.py", "celery_settings.py", "names.py", "source.py", "values.py", "walk.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


ENGINE_DIGEST = _engine_digest()


class LazySummary:
    """A file's summary as it crosses from a worker and into the cache: pickled once, in the worker,
    and unpickled only where it is used, so that saving the cache copies bytes instead of pickling
    a thousand summaries again."""

    __slots__ = ("_module", "_pickled")

    def __init__(self, module: facts.Module):
        self._module: facts.Module | None = module
        self._pickled: bytes | None = None

    def get(self) -> facts.Module:
        if self._module is None:
            self._module = pickle.loads(self._pickled)
        return self._module

    def __getstate__(self) -> bytes:
        if self._pickled is None:
            self._pickled = pickle.dumps(self._module, protocol=pickle.HIGHEST_PROTOCOL)
        return self._pickled

    def __setstate__(self, pickled: bytes) -> None:
        self._module, self._pickled = None, pickled


@dataclass
class Entry:
    """What is known of one file, valid while its size and mtime (or else its content hash) are unchanged."""

    size: int
    mtime_ns: int
    digest: str
    module_name: str
    is_package: bool
    has_task_marker: bool
    has_model_marker: bool
    has_config_marker: bool
    has_signal_marker: bool
    settings_words: frozenset[str]  # which SETTINGS_WORDS the file says (see Project.modules_saying)
    decorators: frozenset[str]  # last parts of `@name` decorators written in the file
    imports: frozenset[str]  # modules (and module.name) its import statements may name, read without parsing
    summary: LazySummary | None = None
    error: tuple[int, str] | None = None  # (line, message) when the file does not parse
    summarized: bool = False


@dataclass
class Stats:
    summarized: int = 0  # files parsed with ast in this run
    from_cache: int = 0  # files whose summary came from the cache
    read: int = 0  # files whose bytes were read


def scan(
    path: Path, module_name: str, is_package: bool, summarize_now: bool, stat: os.stat_result, data: bytes | None = None
) -> Entry:
    """Read one file, note its markers, and summarize it when asked (or when it may hold tasks)."""
    data = path.read_bytes() if data is None else data
    entry = Entry(
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        digest=hashlib.sha256(data).hexdigest(),
        module_name=module_name,
        is_package=is_package,
        has_task_marker=any(m in data for m in TASK_MARKERS),
        has_model_marker=any(m in data for m in MODEL_MARKERS),
        has_config_marker=any(m in data for m in celery_settings.MARKERS),  # read only by the audit
        has_signal_marker=any(m in data for m in SIGNAL_MARKERS),  # read when a rule follows a save
        settings_words=frozenset(word.decode() for word in SETTINGS_WORDS if word in data),
        decorators=frozenset(m.rsplit(b".", 1)[-1].decode("ascii", "replace") for m in _DECORATOR.findall(data)),
        imports=imported_names(data, module_name, is_package),
    )
    problem = _unreadable(data, stat.st_size)
    if problem:
        entry.error = (0, problem)
    elif summarize_now or entry.has_task_marker:
        summarize_entry(entry, path, data)
    return entry


def imported_names(data: bytes, module_name: str, is_package: bool) -> frozenset[str]:
    """What `import` statements anywhere in the file name: `pkg.models` and `pkg.models.Payout` for
    `from .models import Payout`. A text search, so it may name too much (an import in a docstring)
    or miss an unusual form; it only decides which files to summarize ahead of need, in parallel."""
    names: set[str] = set()
    package = module_name if is_package else module_name.rpartition(".")[0]
    for start in _lines_saying_import(data):
        plain = _IMPORT.match(data, start)
        if plain:
            for part in plain.group(1).split(b","):
                words = part.split()
                if words:
                    names.add(words[0].decode("ascii", "replace"))
            continue
        match = _FROM_IMPORT.match(data, start)
        if not match:
            continue
        written = match.group(1).decode("ascii", "replace")
        base = written.lstrip(".")
        level = len(written) - len(base)
        if level:
            parent = package
            for _ in range(level - 1):
                parent = parent.rpartition(".")[0]
            base = f"{parent}.{base}" if base and parent else (base or parent)
        names.add(base)
        aliases = match.group(2) if match.group(2) is not None else match.group(3)
        for line in aliases.split(b"\n"):
            for part in line.split(b"#")[0].split(b","):
                words = part.split()
                if words and words[0] != b"*":
                    names.add(f"{base}.{words[0].decode('ascii', 'replace')}")
    names.discard("")
    return frozenset(names)


def _lines_saying_import(data: bytes) -> list[int]:
    """Offsets of the lines that contain `import` (bytes.find: a regex scan costs 25x more)."""
    starts = []
    position = data.find(b"import")
    while position != -1:
        start = data.rfind(b"\n", 0, position) + 1
        if not starts or starts[-1] != start:
            starts.append(start)
        position = data.find(b"import", position + 6)
    return starts


def _unreadable(data: bytes, size: int) -> str:
    """Files no rule should touch, found without parsing: binary, undecodable, or too big to be hand-written."""
    if size > MAX_BYTES:
        return f"{size / 1e6:.1f} MB, larger than {MAX_BYTES // 1_000_000} MB (generated code?); skipped"
    if b"\0" in data:
        return "binary file (NUL bytes); skipped"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        head = b"\n".join(data.split(b"\n", 2)[:2])
        if not re.search(rb"coding[:=]", head):
            return f"not UTF-8 (byte {data[error.start]:#x} at offset {error.start}) and no encoding cookie; skipped"
    return ""


def summarize_entry(entry: Entry, path: Path, data: bytes) -> None:
    entry.summarized = True
    entry.summary, entry.error = _summarize(path, entry.module_name, entry.is_package, data)


def _summarize(path: Path, module_name: str, is_package: bool, data: bytes):
    """(summary, None), or (None, (line, message)) for a file that does not parse."""
    from .summarize import summarize  # not needed by a run that reuses the last report

    from .newer_syntax import NewerSyntax

    try:
        return LazySummary(summarize(data, str(path), module_name, is_package)), None
    except NewerSyntax as error:
        return None, (error.lineno or 0, f"{error.msg}; skipped")
    except SyntaxError as error:
        return None, (error.lineno or 0, f"SyntaxError: {error.msg}; skipped")
    except (ValueError, UnicodeDecodeError, RecursionError, MemoryError) as error:
        return None, (0, f"cannot parse ({type(error).__name__}: {error}); skipped")


def _summarize_job(job):
    path, module_name, is_package, data = job
    try:
        data = path.read_bytes() if data is None else data
    except OSError as error:
        return None, (0, f"cannot read: {error.strerror or error}"), False
    return (*_summarize(path, module_name, is_package, data), True)


def _scan_job(job):
    path, module_name, is_package, summarize_now = job
    try:
        stat = path.stat()
        return path, scan(path, module_name, is_package, summarize_now, stat), None
    except OSError as error:
        return path, None, error.strerror or str(error)


class Cache:
    """One sealed pickle per project folder (see `sealed`): {path: Entry}. Safe to delete; ignored by
    git. Whoever runs the rules saves it once at the end, with what they made the index load."""

    def __init__(self, directory: Path | None, declared: str = ""):
        self.directory = directory
        self.entries: dict[str, Entry] = {}
        self.dirty = False
        self.engine = ENGINE_DIGEST + declared  # summaries made with other declared effects are misses
        if directory is not None:
            stored = read_sealed(self._file)  # a file this user's idem-fix did not write is a miss
            if isinstance(stored, dict) and stored.get("engine") == self.engine:
                self.entries = stored["entries"]

    @property
    def _file(self) -> Path:
        return self.directory / "summaries.pickle"

    def lookup(self, path: Path, stat: os.stat_result, module_name: str, is_package: bool) -> Entry | None:
        entry = self.entries.get(str(path))
        if entry is None or entry.size != stat.st_size or entry.mtime_ns != stat.st_mtime_ns:
            return None
        if entry.module_name != module_name or entry.is_package != is_package:
            return None
        return entry

    def store(self, path: Path, entry: Entry) -> None:
        self.entries[str(path)] = entry
        self.dirty = True

    def forget(self, path: Path) -> None:
        if self.entries.pop(str(path), None) is not None:
            self.dirty = True

    def save(self) -> None:
        if self.directory is None or not self.dirty:
            return
        try:
            prepare_cache_dir(self.directory)
            write_sealed(self._file, {"engine": self.engine, "entries": self.entries})
            self.dirty = False
        except OSError:
            pass  # a cache that cannot be written only costs time


@dataclass
class Loader:
    """Entries for a run's files, from the cache where valid, scanned (in parallel when many) otherwise."""

    cache: Cache
    jobs: int = 1
    overlay: dict[Path, bytes] = field(default_factory=dict)  # contents not on disk yet (an earlier rule's output)
    stats: Stats = field(default_factory=Stats)
    on_progress: Callable[[int, int], None] | None = None  # (files done, files to scan)

    def load(self, files: list[tuple[Path, str, bool]], summarize_all: bool) -> tuple[dict[Path, Entry], dict[Path, str]]:
        entries: dict[Path, Entry] = {}
        errors: dict[Path, str] = {}
        pending = []
        for path, module_name, is_package in files:
            try:
                stat = path.stat()
            except OSError as error:
                errors[path] = error.strerror or str(error)
                continue
            if path in self.overlay:
                entries[path] = scan(path, module_name, is_package, summarize_all, stat, self.overlay[path])
                self.stats.summarized += entries[path].summarized
                continue
            entry = self.cache.lookup(path, stat, module_name, is_package)
            if entry is not None and (entry.summarized or entry.error or not (summarize_all or entry.has_task_marker)):
                entries[path] = entry
                self.stats.from_cache += entry.summarized
                continue
            pending.append((path, module_name, is_package, summarize_all))
        for done, (path, entry, error) in enumerate(self._scan(pending), 1):
            if self.on_progress is not None:
                self.on_progress(done, len(pending))
            if error is not None:
                errors[path] = error
                continue
            entries[path] = entry
            if entry.summary is not None:
                entry.summary.get()  # a file with tasks: loaded next, so unpickled while the workers go on
            self.cache.store(path, entry)
            self.stats.read += 1
            self.stats.summarized += entry.summarized
        return entries, errors

    def _scan(self, jobs):
        yield from self._map(_scan_job, jobs, _POOL_THRESHOLD)

    def _map(self, work, jobs, threshold):
        return parallel_map(work, jobs, self.jobs, threshold)

    def summarize_all(self, files: list[tuple[Path, Entry]]) -> None:
        """Summarize, in parallel when there are many, the files that are about to be needed."""
        todo = [(path, entry) for path, entry in files if not entry.summarized and entry.error is None]
        jobs = [(path, entry.module_name, entry.is_package, self.overlay.get(path)) for path, entry in todo]
        for (path, entry), (summary, error, read) in zip(todo, self._map(_summarize_job, jobs, _BATCH_POOL_THRESHOLD)):
            entry.summarized = True
            entry.summary, entry.error = summary, error
            if summary is not None:
                summary.get()  # most are loaded next: unpickled here while the workers go on
            if not read:
                self.cache.forget(path)  # the next run tries again
                continue
            self.stats.read += 1
            self.stats.summarized += 1
            if path not in self.overlay:
                self.cache.store(path, entry)

    def summarize_later(self, path: Path, entry: Entry) -> None:
        """Summarize a file first skipped by the prefilter, now that an import or lookup needs it."""
        self.summarize_all([(path, entry)])
