"""The last audit's report, reused while nothing it depends on has changed: every file the run reads
(path, size, mtime, inode, ctime), the configuration, the working folder (paths in the report are
relative to it), the Python version and idem-fix's own code (the engine, the rules, and the command
line that renders the report). A warm audit of an unchanged project then lists and stats its files
and parses nothing; any change falls back to the per-file summary cache."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from .files import SourceFile
from .cache_dir import prepare_cache_dir
from .sealed import read_sealed, write_sealed

_CODEMODS = Path(__file__).resolve().parent.parent  # the engine and every rule
_CODE = (_CODEMODS, _CODEMODS.parent / "cli")  # and the renderers, whose texts are cached with the report


def _code_digest() -> str:
    digest = hashlib.sha256()
    for folder in _CODE:
        for path in sorted(folder.rglob("*.py")):
            digest.update(f"{folder.name}/{path.relative_to(folder).as_posix()}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def report_key(files: list[SourceFile], targets: set[Path], settings: str) -> str | None:
    """None when a file cannot be statted (the run will report it; nothing is reused)."""
    digest = hashlib.sha256()
    digest.update(f"{_code_digest()}\0{sys.version}\0{os.getcwd()}\0{settings}\0".encode())
    for source in files:
        try:
            stat = source.path.stat()
        except OSError:
            return None
        digest.update(
            f"{source.path}\0{source.root}\0{source.problem}\0{stat.st_size}\0{stat.st_mtime_ns}\0"
            f"{stat.st_ino}\0{stat.st_ctime_ns}\0".encode()  # a file copied over with its old mtime still counts
        )
        digest.update(b"T" if source.path in targets else b"C")
    return digest.hexdigest()


class ReportCache:
    """`report.pickle` beside the summaries: one report, the latest, sealed (see `sealed`). Safe to delete."""

    def __init__(self, directory: Path):
        self.file = directory / "report.pickle"

    def load(self, key: str | None):
        if key is None:
            return None
        stored = read_sealed(self.file)  # a file this user's idem-fix did not write is a miss
        if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key):
            return None
        return stored[1]

    def save(self, key: str | None, value) -> None:
        if key is None:
            return
        try:
            prepare_cache_dir(self.file.parent)
            write_sealed(self.file, (key, value))
        except OSError:
            pass  # a cache that cannot be written only costs time
