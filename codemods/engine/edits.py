"""Turning fix plans into new file contents: one libcst parse per changed file, verified before use,
shown as a diff, written atomically."""

from __future__ import annotations

import ast
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

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .files import display_path


@dataclass
class FileChange:
    path: Path
    old: bytes
    new: bytes
    applied: dict[str, list] = field(default_factory=dict)  # rule name -> plans applied
    error: str = ""

    @property
    def changed(self) -> bool:
        return not self.error and self.new != self.old

    def diff(self) -> str:
        encoding = _encoding(self.old)
        old = self.old.decode(encoding, errors="replace").splitlines(keepends=True)
        new = self.new.decode(encoding, errors="replace").splitlines(keepends=True)
        name = display_path(self.path).replace(os.sep, "/")
        lines = difflib.unified_diff(old, new, f"a/{name}", f"b/{name}")
        return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines)


def _encoding(data: bytes) -> str:
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        return "utf-8"


def rewrite_file(path: Path, work: list[tuple[object, list]], source: bytes | None = None) -> FileChange:
    """Apply each (rule, plans) in turn to the file (or to `source`, its current content); the result
    is verified to parse and compile."""
    old = path.read_bytes() if source is None else source
    change = FileChange(path, old, old)
    try:
        module = cst.parse_module(old)
    except cst.ParserSyntaxError as error:
        change.error = f"libcst cannot parse it: {str(error).splitlines()[0]}"
        return change
    for rule, plans in work:
        try:
            module, applied = rule.transform(module, plans)
        except Exception as error:  # a rule's bug must cost one file, never the run
            change.error = f"{rule.name} failed on this file ({type(error).__name__}: {error}); left unchanged"
            return change
        if applied:
            change.applied[rule.name] = applied
    new = module.bytes
    if new != old:
        problem = verify(new, path)
        if problem:
            change.error = f"the rewritten file would not compile ({problem}); left unchanged"
            return change
    change.new = new
    return change


def verify(source: bytes, path: Path) -> str:
    try:
        compile(ast.parse(source, filename=str(path)), str(path), "exec")
    except (SyntaxError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return ""


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder and rename it over the original:
    readers see the old file or the new one, never half of one. Permissions are kept. Ctrl-C and
    SIGTERM wait until the file is done, so an interrupted run leaves no temporary file behind."""
    with _signals_deferred():
        mode = path.stat().st_mode
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


class PositionedTransformer(cst.CSTTransformer):
    """A transformer that finds the nodes its plans name by (line, column) of their start."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def start_of(self, node: cst.CSTNode) -> tuple[int, int]:
        position = self.get_metadata(PositionProvider, node).start
        return position.line, position.column

    @classmethod
    def run(cls, module: cst.Module, *args) -> tuple[cst.Module, "PositionedTransformer"]:
        transformer = cls(*args)
        # No defensive copy: each file's tree is parsed for this run and never reused.
        return MetadataWrapper(module, unsafe_skip_copy=True).visit(transformer), transformer
