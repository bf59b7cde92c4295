"""Source text for rewritten call arguments that keeps the call's own layout and comments.

Rules build new argument lists as text relative to the statement's indentation and let libcst parse
it: indentation inside brackets is stored relative to the enclosing block, so the text drops in at
any depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

_EMPTY = cst.Module([])


def code_of(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


@dataclass
class _Item:
    text: str  # `amount=amount`, or `"amount": amount` once moved into a dict
    comment: str = ""  # trailing comment on its line, with its leading spaces
    comments_before: list[str] = field(default_factory=list)  # whole-line comments above it


def _trailing(whitespace) -> str:
    if isinstance(whitespace, cst.ParenthesizedWhitespace) and whitespace.first_line.comment:
        return code_of(whitespace.first_line.whitespace) + whitespace.first_line.comment.value
    return ""


def _own_lines(whitespace) -> list[str]:
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        return [line.comment.value for line in whitespace.empty_lines if line.comment]
    return []


def _indent(whitespace) -> str | None:
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        return whitespace.last_line.value
    return None


def _after(arg: cst.Arg):
    return arg.comma.whitespace_after if isinstance(arg.comma, cst.Comma) else arg.whitespace_after_arg


def call_arguments_text(call: cst.Call, identity: tuple[str, ...], shift: int = 0) -> str:
    """The argument list of `call` with the kwargs named in `identity` kept and every other argument
    moved into `defaults={...}`, laid out as the call was (one line, or one argument per line).
    `shift`: how many characters longer the callee's name becomes, for arguments aligned under it."""
    separators = [call.whitespace_before_args, *(_after(arg) for arg in call.args)]
    kept: list[_Item] = []
    moved: list[_Item] = []
    for index, arg in enumerate(call.args):
        bare = arg.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=cst.SimpleWhitespace(""))
        comments = {"comment": _trailing(separators[index + 1]), "comments_before": _own_lines(separators[index])}
        if arg.keyword is not None and arg.keyword.value in identity:
            kept.append(_Item(code_of(bare), **comments))
        elif arg.keyword is not None:
            moved.append(_Item(f'"{arg.keyword.value}": {code_of(arg.value)}', **comments))
        else:
            moved.append(_Item(code_of(bare), **comments))
    closing = separators[-1] if call.args else call.whitespace_before_args
    indent = _indent(call.whitespace_before_args)
    if indent is not None:
        return _one_per_line(kept, moved, indent, _indent(closing) or "", _trailing(call.whitespace_before_args), _own_lines(closing) if call.args else [])
    continuation = next((i for i in map(_indent, separators[1:-1]) if i is not None), None)
    if continuation is not None:
        if len(continuation) > 4:  # aligned with the opening bracket, which moves with the longer name
            continuation += " " * shift
        return _hanging(kept, moved, continuation, _indent(closing))
    return ", ".join([item.text for item in kept] + ([_inline_dict(moved)] if moved else []))


def _inline_dict(items: list[_Item]) -> str:
    return "defaults={" + ", ".join(item.text for item in items) + "}"


def _one_per_line(kept, moved, indent: str, closing: str, opening_comment: str, closing_comments: list[str]) -> str:
    step = indent[len(closing):] if indent.startswith(closing) and len(indent) > len(closing) else "    "
    out = [opening_comment]

    def emit(item: _Item, at: str) -> None:
        for comment in item.comments_before:
            out.append(f"\n{at}{comment}")
        out.append(f"\n{at}{item.text},{item.comment}")

    for item in kept:
        emit(item, indent)
    if moved:
        out.append(f"\n{indent}defaults={{")
        for item in moved:
            emit(item, indent + step)
        out.append(f"\n{indent}}},")
    for comment in closing_comments:
        out.append(f"\n{indent}{comment}")
    out.append(f"\n{closing}")
    return "".join(out)


def _hanging(kept, moved, continuation: str, closing_indent: str | None) -> str:
    """`create(a=1,\n           b=2)`: items stay aligned under the first one; moved comments follow `defaults`."""
    items = kept + ([_Item(_inline_dict(moved), "".join(i.comment for i in moved))] if moved else [])
    out = []
    for position, item in enumerate(items):
        if position:
            out.append(f"\n{continuation}")
        out.append(item.text + ("," if position < len(items) - 1 else "") + item.comment)
    if items and items[-1].comment:
        out.append(f"\n{continuation if closing_indent is None else closing_indent}")
    elif closing_indent is not None:
        out.append(f"\n{closing_indent}")
    return "".join(out)
