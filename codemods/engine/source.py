"""A module's text with the look-ups analysis needs, each without re-splitting the file."""

from __future__ import annotations

import ast
import re

LINE_BREAK = re.compile(r"\r\n|\r|\n")  # not str.splitlines: it also breaks at form feeds


class SourceText:
    def __init__(self, text: str):
        self.text = text
        self.lines = LINE_BREAK.split(text)
        self._encoded: list[bytes] | None = None

    def segment(self, node: ast.AST | None) -> str:
        """What `ast.get_source_segment` gives (which splits the whole file on every call)."""
        if self._encoded is None:
            self._encoded = [line.encode("utf-8") for line in self.lines]
        try:
            first, last = node.lineno - 1, node.end_lineno - 1
            start, end = node.col_offset, node.end_col_offset
        except (AttributeError, TypeError):
            return ""
        if last >= len(self._encoded):
            return ""
        if first == last:
            return self._encoded[first][start:end].decode("utf-8", "replace")
        parts = [self._encoded[first][start:], *self._encoded[first + 1 : last], self._encoded[last][:end]]
        return b"\n".join(parts).decode("utf-8", "replace")

    def char_column(self, line: int, byte_offset: int) -> int:
        """ast counts columns in UTF-8 bytes, libcst in characters."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))

    def comment_only(self, line: int) -> bool:
        return 0 < line <= len(self.lines) and self.lines[line - 1].lstrip().startswith("#")
