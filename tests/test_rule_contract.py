"""Rules ask the engine; they never parse or classify on their own (docs/engine.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CODEMODS = Path(__file__).resolve().parent.parent / "codemods"
RULE_MODULES = sorted(p for p in CODEMODS.glob("*/*.py") if p.parent.name != "engine")
FORBIDDEN_IMPORTS = {"tokenize"}
FORBIDDEN_CALLS = {"parse", "tree", "parse_function", "source_bytes", "classify", "parse_module"}


def _violations(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in FORBIDDEN_IMPORTS]
        elif isinstance(node, ast.ImportFrom):
            names = {node.module or ""} | {a.name for a in node.names}
            found += [f"from {node.module} import ..." for n in names if n.split(".")[0] in FORBIDDEN_IMPORTS | {"parse_function"}]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            # libcst parses the files a rule rewrites (`cst.parse_expression`, ...); that is rewriting, not reading
            if name in FORBIDDEN_CALLS and owner not in {"cst", "libcst"}:
                found.append(f"line {node.lineno}: {owner + '.' if owner else ''}{name}()")
    return found


def test_there_are_rule_modules_to_check():
    assert {p.parent.name for p in RULE_MODULES} >= {"create_to_get_or_create", "guard_external_call", "atomic_multi_create", "sent_flag"}


@pytest.mark.parametrize("path", RULE_MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_rule_module_does_not_parse_or_classify_on_its_own(path):
    assert _violations(path) == []
