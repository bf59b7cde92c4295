"""A file's change (old and new bytes, its diff) and the all-or-nothing write. Kept apart from the
libcst rewriting in `edits.py` so that commands that only read (a warm `audit`) start without libcst."""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import signal
import tempfile
import threading
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from .files import display_path


@dataclass
class FileChange:
    path: Path
    old: bytes
    new: bytes
    applied: dict[str, list] = field(default_factory=dict)  # rule name -> plans applied
    error: str = ""
    created: bool = False  # a new file (a test a rule adds beside its fix)

    @property
    def changed(self) -> bool:
        return not self.error and self.new != self.old

    def diff(self) -> str:
        encoding = _encoding(self.old)
        old = self.old.decode(encoding, errors="replace").splitlines(keepends=True)
        new = self.new.decode(encoding, errors="replace").splitlines(keepends=True)
        name = display_path(self.path).replace(os.sep, "/")
        lines = difflib.unified_diff(old, new, "/dev/null" if self.created else f"a/{name}", f"b/{name}")
        return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines)


def annotated_diff(change: FileChange, notes: list[tuple[int, str]]) -> str:
    """The file's diff with each hunk as a patch of its own, the notes of the lines it changes right above
    it as `# ` lines (`git apply` and `patch` skip them and apply the hunks one after another). `notes`:
    (line in the old file, text)."""
    if not notes or change.created:
        return change.diff()
    out = []
    for start, length, patch in hunks(change):
        above = [text for line, text in notes if changes_line(start, length, line)]
        out += [f"# {' '.join(text.split())}\n" for text in above] + [patch]
    return "".join(out)


def hunks(change: FileChange) -> list[tuple[int, int, str]]:
    """(first old line, old line count, the hunk as a patch with the file's header) for each hunk."""
    lines = change.diff().splitlines(keepends=True)
    header, body = "".join(lines[:2]), lines[2:]
    found: list[list[str]] = []
    for line in body:
        if line.startswith("@@") or not found:
            found.append([])
        found[-1].append(line)
    return [(*_old_range(hunk[0]), header + "".join(hunk)) for hunk in found]


def changes_line(start: int, length: int, line: int) -> bool:
    """Whether the hunk starting at old line `start`, `length` lines long, is where old line `line` changes."""
    return start <= line < start + max(length, 1)


def _old_range(hunk_header: str) -> tuple[int, int]:
    """(first line, line count) of the old file in `@@ -12,7 +12,9 @@`."""
    old = hunk_header.split()[1][1:]
    first, _, count = old.partition(",")
    return int(first), int(count) if count else 1


def _encoding(data: bytes) -> str:
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        return "utf-8"


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder and rename it over the original:
    readers see the old file or the new one, never half of one. Permissions are kept. Ctrl-C and
    SIGTERM wait until the file is done, so an interrupted run leaves no temporary file behind."""
    with _signals_deferred():
        mode = path.stat().st_mode if path.exists() else 0o666 & ~_umask()
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".idem-fix", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, mode & 0o7777)
            os.replace(temporary, path)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT and SIGTERM (delivered when the block ends) where the platform allows it."""
    blockable = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    if not blockable:
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
