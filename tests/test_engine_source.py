"""Parsing one function from its own lines gives the node the module's parse gives, or nothing."""

from __future__ import annotations

import ast

from idem_fix.codemods.engine.source import LINE_BREAK, parse_function
from idem_fix.codemods.engine.summarize import summarize

SOURCE = '''import celery


class Sync:
    """Docs."""

    @celery.shared_task(
        bind=True,
    )
    # a comment between decorators
    @staticmethod
    def run(self, ids):
        text = """
not indented, inside a string
"""
        return [i for i in ids if i]


def plain(x):
    return x
'''


def _same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a, include_attributes=True) == ast.dump(b, include_attributes=True)


def test_a_decorated_method_parses_alone_at_its_place_in_the_module():
    summary = summarize(SOURCE.encode(), "m.py", "m", False)
    method = summary.classes["Sync"].methods["run"]
    in_module = ast.parse(SOURCE).body[1].body[1]
    alone = parse_function(LINE_BREAK.split(SOURCE), method)
    assert method.first_line == 7 and method.line == 12
    assert alone is not None and _same(alone, in_module)


def test_without_decorators_the_node_starts_at_the_def():
    summary = summarize(SOURCE.encode(), "m.py", "m", False)
    alone = parse_function(LINE_BREAK.split(SOURCE), summary.classes["Sync"].methods["run"], decorators=False)
    assert alone.decorator_list == [] and (alone.lineno, alone.col_offset) == (12, 4)
    plain = parse_function(LINE_BREAK.split(SOURCE), summary.functions["plain"])
    assert _same(plain, ast.parse(SOURCE).body[2])


def test_lines_that_are_not_exactly_the_function_give_nothing():
    summary = summarize(SOURCE.encode(), "m.py", "m", False)
    shifted = ["# one more line", *LINE_BREAK.split(SOURCE)]  # the summary's lines no longer hold it
    assert parse_function(shifted, summary.functions["plain"]) is None
    assert parse_function(shifted, summary.classes["Sync"].methods["run"]) is None
