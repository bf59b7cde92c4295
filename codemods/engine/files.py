"""Which files a run looks at: Python files under the given paths, minus what a project never wants touched."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


# Folders that hold other people's code or generated code: never analysed, never rewritten. Django's
# migration modules are generated too, but a `migrations` package may also hold data-migration tasks
# (`<app>/migrations/tasks/`): only the migration modules themselves are left out (MIGRATION_MODULE).
SKIPPED_DIRS = frozenset(
    {
        "node_modules",
        "site-packages",
        "__pycache__",
        "venv",
        "env",
        "build",
        "dist",
    }
)


MIGRATION_MODULE = re.compile(r"^\d+_.*\.py$")  # 0001_initial.py (makemigrations), 10006_fix_chars.py


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    root: Path  # the PATH argument (folder) it was found under; module names are relative to it
    problem: str = ""  # why it is reported and skipped instead of read (a symlink out of the project)

    @property
    def display(self) -> str:
        """The path as users see it in messages: relative to the current directory when possible."""
        return display_path(self.path)


def display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _is_virtualenv(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "pyvenv.cfg"))


class _IgnoreRules:
    """.gitignore files met on the way down, each applying to its own folder."""

    def __init__(self, exclude: "Exclude | None" = None) -> None:
        self._specs: list[tuple[Path, object]] = []  # (folder, pathspec.GitIgnoreSpec)
        if exclude is not None and exclude.patterns:
            import pathspec

            self._specs.append((exclude.base, pathspec.GitIgnoreSpec.from_lines(exclude.patterns)))

    def load(self, directory: Path | str) -> None:
        gitignore = os.path.join(directory, ".gitignore")
        if not os.path.isfile(gitignore):
            return
        try:
            with open(gitignore, encoding="utf-8", errors="replace") as stream:
                lines = stream.read().splitlines()
        except OSError:
            return
        import pathspec  # only where a .gitignore is met: a warm audit's start-up counts

        self._specs.append((Path(directory), pathspec.GitIgnoreSpec.from_lines(lines)))

    def ignored(self, path: str, is_dir: bool) -> bool:
        for base, spec in self._specs:
            try:
                relative = Path(path).relative_to(base).as_posix()
            except ValueError:
                continue
            if spec.match_file(relative + "/" if is_dir else relative):
                return True
        return False


def _git_top(start: Path) -> Path | None:
    for directory in [start, *start.parents]:
        if (directory / ".git").exists():
            return directory
    return None


@dataclass(frozen=True)
class Exclude:
    """`exclude` / `extend-exclude` of [tool.idem-fix]: gitignore patterns from `base` (where pyproject.toml
    is); `exclude` replaces the default folders left out, `extend-exclude` adds to them."""

    base: Path
    patterns: tuple[str, ...]
    skipped: frozenset[str] = SKIPPED_DIRS

    @classmethod
    def of(cls, config) -> "Exclude | None":
        if config is None or config.root is None or (config.exclude is None and not config.extend_exclude):
            return None
        patterns = (*(config.exclude or ()), *config.extend_exclude)
        return cls(config.root, patterns, SKIPPED_DIRS if config.exclude is None else frozenset())


def discover(paths: list[Path], exclude: Exclude | None = None) -> list[SourceFile]:
    """Python files under `paths`, sorted, each once. Files named explicitly are always included."""
    found: dict[str, SourceFile] = {}  # by path string: hashing thousands of Paths costs more than the walk
    for given in paths:
        given = given.absolute()
        if given.is_file():
            root = _package_root(given.parent)
            found.setdefault(str(given), SourceFile(given, root, _symlink_problem(given, root)))
            continue
        if not given.is_dir():
            continue
        rules = _IgnoreRules(exclude)
        top = _git_top(given)
        if top is not None:
            for directory in reversed([given, *given.parents]):
                if directory == top or top in directory.parents:
                    if directory != given:
                        rules.load(directory)
        for name, is_link in _walk(str(given), rules, exclude.skipped if exclude else SKIPPED_DIRS):
            if name not in found:
                file = Path(name)
                found[name] = SourceFile(file, given, _symlink_problem(file, given) if is_link else "")
    return sorted(found.values(), key=lambda f: f.path.parts)  # Path order, without Path comparisons


@dataclass
class Files:
    """What a run reads: the files inside `paths` (targets) and the project around them (see `context_root`)."""

    all: list
    targets: set[Path]
    roots: list[Path]


def find_files(paths: list[Path], config=None) -> Files:
    """The files a run reads, leaving out what `config` (its [tool.idem-fix]) excludes."""
    exclude = Exclude.of(config)
    found = discover(paths, exclude)
    roots = sorted({context_root(p) for p in paths})
    # Files are named from their context root (the copies found there win); `audit .` names its own root.
    around = [] if sorted(p.absolute() for p in paths) == roots else discover(roots, exclude)
    everything = sorted({f.path: f for f in [*found, *around]}.values(), key=lambda f: f.path) if around else found
    return Files(everything, {f.path for f in found}, roots)


def _symlink_problem(path: Path, root: Path) -> str:
    """Links are never followed out of the folder being worked on: a write there would change
    a file the user did not name."""
    if not path.is_symlink():
        return ""
    target = path.resolve()
    if not target.exists():
        return "broken symbolic link; skipped"
    if root.resolve() not in target.parents:
        return f"symbolic link to {target}, outside {display_path(root)}; skipped"
    return "symbolic link (its target is read under its own name); skipped"


def context_root(path: Path) -> Path:
    """The folder a run reads for context around `path`: the one above its outermost package, so that
    `idem-fix apply payments/tasks.py` still sees payments/models.py and the other apps."""
    path = path.absolute()
    return _package_root(path if path.is_dir() else path.parent)


def _package_root(directory: Path) -> Path:
    """The folder above the outermost package containing `directory` (itself when it is no package)."""
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        directory = directory.parent
    return directory


def _walk(top: str, rules: _IgnoreRules, skipped: frozenset[str] = SKIPPED_DIRS):
    """(path, is a symlink) of the Python files below `top`, as strings: a big tree has thousands of
    entries, and a Path per entry costs more than the walk. Django migration modules are left out."""
    migrations = os.path.basename(top) == "migrations"
    rules.load(top)
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if entry.is_dir(follow_symlinks=False):
            if name.startswith(".") or name in skipped or _is_virtualenv(entry.path):
                continue
            if rules.ignored(entry.path, is_dir=True):
                continue
            yield from _walk(entry.path, rules, skipped)
        elif name.endswith(".py") and (entry.is_file() or entry.is_symlink()):
            if migrations and MIGRATION_MODULE.match(name):
                continue
            if not rules.ignored(entry.path, is_dir=False):
                yield entry.path, entry.is_symlink()  # from the scan: no stat per file
