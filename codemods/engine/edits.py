"""Turning fix plans into new file contents: one libcst parse per changed file, verified before use,
shown as a diff and written atomically by `writes.py`."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from . import newer_syntax
from .writes import FileChange


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
    """Why the new source would not run, or "": it must compile (a file written for a newer Python than
    the running one, once its newer constructs are lowered; see newer_syntax)."""
    try:
        tree, _ = newer_syntax.parse(source, filename=str(path))
        compile(tree, str(path), "exec")
    except (SyntaxError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return ""


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
