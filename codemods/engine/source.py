"""A module's text with the look-ups analysis needs, each without re-splitting the file."""

from __future__ import annotations

import ast
import io
import re
import tokenize

LINE_BREAK = re.compile(r"\r\n|\r|\n")  # not str.splitlines: it also breaks at form feeds
# `# idem-fix: ignore[code, ...] -- reason` on a line; `ignore-file[...]` anywhere: the whole file (line 0)
_SUPPRESSION = re.compile(r"#\s*idem-fix:\s*ignore(-file)?(?:\[([^\]]*)\])?")
WHOLE_FILE = 0


def one_line(text: str, limit: int = 60) -> str:
    """Code as it reads in a message: on one line, cut at `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode(source: bytes) -> str:
    """The text of a module's bytes, in its declared encoding (an undecodable byte becomes U+FFFD)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError:
        encoding = "utf-8"
    return source.decode(encoding, errors="replace")


def suppressions(text: str) -> dict[int, frozenset[str]]:
    """`# idem-fix: ignore[code, ...]` comments by line (`*` for a bare ignore), `ignore-file[...]` ones
    under WHOLE_FILE. A code is a rule's name or a finding kind (`fan-out`, `not-followed`). Text after the
    comment (`-- reason`) is for people. Read from the tokens, so the same words in a string are no comment."""
    if "idem-fix:" not in text:
        return {}
    found: dict[int, frozenset[str]] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return {}
    for token in tokens:
        if token.type == tokenize.COMMENT:
            match = _SUPPRESSION.search(token.string)
            if match:
                codes = match.group(2)
                names = {r.strip() for r in codes.split(",") if r.strip()} if codes else {"*"}
                line = WHOLE_FILE if match.group(1) else token.start[0]
                found[line] = found.get(line, frozenset()) | names
    return found


def suppression_reasons(text: str) -> dict[int, str]:
    """The reason written after each suppression comment (`# idem-fix: ignore[fanout] -- why`), by line
    (WHOLE_FILE for ignore-file); "" when none is given."""
    found: dict[int, str] = {}
    for number, line in enumerate(LINE_BREAK.split(text), 1):
        match = _SUPPRESSION.search(line)
        if match:
            reason = line[match.end():].strip().lstrip("-—:").strip()
            found[WHOLE_FILE if match.group(1) else number] = reason
    return found


class SourceText:
    def __init__(self, text: str):
        self.text = text
        self.lines = LINE_BREAK.split(text)
        self._encoded: list[bytes] | None = None
        self._suppressions: dict[int, frozenset[str]] | None = None

    @property
    def suppressions(self) -> dict[int, frozenset[str]]:
        if self._suppressions is None:
            self._suppressions = suppressions(self.text)
        return self._suppressions

    def suppressed_lines(self, first: int, last: int, rule: str) -> bool:
        """Whether a `# idem-fix: ignore` for `rule` sits on a line from `first` to `last`, or alone on
        the line above `first`."""
        marks = self.suppressions
        if not marks:
            return False
        lines = [WHOLE_FILE, *range(first - 1 if self.comment_only(first - 1) else first, last + 1)]
        return any(rule in marks.get(n, ()) or "*" in marks.get(n, ()) for n in lines)

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


def parse_function(lines: list[str], function, decorators: bool = True) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """A function's node parsed from its own lines (`lines`: the module's, split at LINE_BREAK), padded so
    that every line and column is the module's: blank lines above, and an `if 1:` header for an indented
    `def`. Parsing one function costs a fraction of parsing its module. With `decorators=False` the node
    starts at the `def`. None when those lines do not give exactly that function: parse the module then."""
    start = function.first_line if decorators else function.line
    if not 0 < start <= function.line <= function.end_line <= len(lines):
        return None
    indented = lines[start - 1][:1] in (" ", "\t")
    if indented and start < 2:
        return None
    head = "\n" * (start - 2) + "if 1:\n" if indented else "\n" * (start - 1)
    try:
        body = ast.parse(head + "\n".join(lines[start - 1 : function.end_line])).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if indented and len(body) == 1 and isinstance(body[0], ast.If):
        body = body[0].body
    node = body[0] if len(body) == 1 else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    if (node.name, node.lineno, node.end_lineno) != (function.name, function.line, function.end_line):
        return None
    if decorators and (node.decorator_list[0].lineno if node.decorator_list else node.lineno) != start:
        return None
    return node
