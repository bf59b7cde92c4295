"""Reading files written for a newer Python than the one running idem-fix.

The analysis parses with the standard library's `ast`, which only knows the running interpreter's
grammar: on 3.11, a file that uses PEP 758 `except A, B:` (3.14), PEP 695 type parameters and `type`
aliases (3.12) or PEP 701 f-strings (3.12: the outer quote inside a replacement field, backslashes in
it) or PEP 750 template strings (3.14) does not parse, and its tasks would vanish from the audit. libcst reads all of them. So when `ast`
refuses a file, libcst parses it and the few new constructs are lowered to an equivalent the running
`ast` accepts, on the same lines:

- `except A, B:` -> `except (A, B):`;
- `def f[T](...)`, `class C[T]:` -> without the type parameters; `type X = ...` -> `X = ...`;
- an f-string the running Python cannot read, and a PEP 750 template string `t"..."` (3.14) -> a
  tuple of the expressions it formats, padded with the line breaks it spanned, so that every call and
  name inside keeps its line (the literal text is of no use to the analysis).

Ordinary files never come here: `ast.parse` succeeds first, so the fast path costs nothing more.
"""

from __future__ import annotations

import ast
import functools
import sys

RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


class NewerSyntax(SyntaxError):
    """libcst reads the file, but even lowered it does not parse with the running Python."""


def parse(source: bytes | str, filename: str = "<unknown>") -> tuple[ast.Module, str | None]:
    """The module's tree, and the lowered text it was parsed from (None when the source parsed as is).
    Raises the original SyntaxError for a file no Python reads, NewerSyntax for one only a newer reads."""
    try:
        return ast.parse(source, filename=filename), None
    except SyntaxError as error:
        lowered = lower(source)
        if lowered is None:
            raise
        try:
            return ast.parse(lowered, filename=filename), lowered
        except SyntaxError:
            raise NewerSyntax(
                f"{error.msg} (line {error.lineno}): written for a newer Python than the {RUNNING} running idem-fix; "
                f"run idem-fix with that Python to analyse it",
                (filename, error.lineno, error.offset, error.text),
            ) from None


def lower(source: bytes | str) -> str | None:
    """The source with the newer constructs lowered, or None when libcst cannot read it either."""
    import libcst as cst  # only for the rare file the running ast refuses

    try:
        module = cst.parse_module(source)
    except Exception:  # noqa: BLE001 - a syntax error, or libcst's own limits (it raises CSTLogicError on some): not read
        return None
    return module.visit(_lowering_class()(module)).code


@functools.cache  # built on first use, so that importing this module never imports libcst
def _lowering_class():
    import libcst as cst

    class Lowering(cst.CSTTransformer):
        def __init__(self, module: cst.Module):
            super().__init__()
            self.module = module
            self.concatenations = 0  # inside implicit string concatenation: lowered there, as a whole

        def code(self, node: cst.CSTNode) -> str:
            return self.module.code_for_node(node)

        def leave_ExceptHandler(self, original, updated):
            return _parenthesized_type(updated)

        def leave_ExceptStarHandler(self, original, updated):
            return _parenthesized_type(updated)

        def leave_FunctionDef(self, original, updated):
            return updated.with_changes(type_parameters=None) if updated.type_parameters is not None else updated

        def leave_ClassDef(self, original, updated):
            return updated.with_changes(type_parameters=None) if updated.type_parameters is not None else updated

        def leave_TypeAlias(self, original, updated):
            return cst.Assign(targets=[cst.AssignTarget(updated.name)], value=updated.value, semicolon=updated.semicolon)

        def leave_FormattedString(self, original, updated):
            text = self.code(updated)
            if self.concatenations or _reads(text):
                return updated
            return self.tuple_of([p.expression for p in _expressions(updated.parts)], text.count("\n"))

        def leave_TemplatedString(self, original, updated):
            text = self.code(updated)
            if self.concatenations or _reads(text):
                return updated
            return self.tuple_of([p.expression for p in _expressions(updated.parts)], text.count("\n"))

        def visit_ConcatenatedString(self, node) -> None:
            self.concatenations += 1

        def leave_ConcatenatedString(self, original, updated):
            self.concatenations -= 1
            text = self.code(updated)
            if self.concatenations or _reads(text):
                return updated
            parts = [p.expression for piece in _pieces(updated) if hasattr(piece, "parts") for p in _expressions(piece.parts)]
            return self.tuple_of(parts, text.count("\n"))

        def tuple_of(self, expressions: list, lines: int) -> cst.BaseExpression:
            """`(a, b,)` with as many line breaks as the code it replaces spanned."""
            inner = ", ".join(self.code(e) for e in expressions)
            inner = f"{inner}," if inner else ""
            padding = "\n" * max(0, lines - inner.count("\n"))
            return cst.parse_expression(f"({inner}{padding})")

    def _parenthesized_type(handler):
        kind = handler.type
        if isinstance(kind, cst.Tuple) and not kind.lpar:
            return handler.with_changes(type=kind.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]))
        return handler

    _EXPRESSION_PARTS = tuple(getattr(cst, n) for n in ("FormattedStringExpression", "TemplatedStringExpression") if hasattr(cst, n))

    def _pieces(node):
        if isinstance(node, cst.ConcatenatedString):
            yield from _pieces(node.left)
            yield from _pieces(node.right)
        else:
            yield node

    def _expressions(parts):
        for part in parts:
            if isinstance(part, _EXPRESSION_PARTS):
                yield part
                yield from _expressions(part.format_spec or ())

    return Lowering


def _reads(expression: str) -> bool:
    try:
        ast.parse(expression.strip(), mode="eval")
        return True
    except SyntaxError:
        return False
