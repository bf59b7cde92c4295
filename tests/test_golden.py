"""Every golden case: apply its rule to a copy of before/, compare with after/ byte for byte,
re-apply and expect no change, and compile every output file.

Layout: golden/<rule>/<case>/before/, after/, and optionally case.toml with
  args = ["--scope", "all"]      extra CLI arguments
  exit = 1                       expected exit code (default 0)
  output = ["no stable identity"] substrings the run must print (skip reasons, notes)
A negative case has identical before/ and after/ trees.
"""

from __future__ import annotations

import difflib
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from idem_fix.cli.main import app
from idem_fix.codemods.engine.rules import all_rules

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CASES = sorted(p for p in GOLDEN.glob("*/*") if (p / "before").is_dir())


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".idem-fix-cache" not in p.parts
    }


def _run(work: Path, rule: str, args: list[str], monkeypatch) -> object:
    monkeypatch.chdir(work)
    return CliRunner().invoke(app, ["apply", "--rule", rule, *args, "."])


def _compare(actual: dict[str, bytes], expected: dict[str, bytes]) -> str:
    problems = []
    for name in sorted(set(actual) | set(expected)):
        if name not in actual or name not in expected:
            problems.append(f"{name}: only in {'after/' if name in expected else 'the result'}")
        elif actual[name] != expected[name]:
            diff = difflib.unified_diff(
                expected[name].decode("utf-8", "replace").splitlines(keepends=True),
                actual[name].decode("utf-8", "replace").splitlines(keepends=True),
                f"after/{name}",
                f"result/{name}",
            )
            problems.append("".join(diff))
    return "\n".join(problems)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_golden_case(case: Path, tmp_path: Path, monkeypatch) -> None:
    options = tomllib.loads((case / "case.toml").read_text()) if (case / "case.toml").is_file() else {}
    work = tmp_path / "project"
    shutil.copytree(case / "before", work)
    result = _run(work, case.parent.name, options.get("args", []), monkeypatch)
    assert result.exit_code == options.get("exit", 0), result.output
    for text in options.get("output", []):
        assert text in result.output, f"expected {text!r} in:\n{result.output}"
    problems = _compare(_tree(work), _tree(case / "after"))
    assert not problems, f"{case.name}: result differs from after/\n{problems}\n--- output ---\n{result.output}"
    for name, data in _tree(work).items():
        if name.endswith(".py"):
            compile(data, name, "exec")
    again = _run(work, case.parent.name, options.get("args", []), monkeypatch)
    assert again.exit_code == options.get("exit", 0), again.output
    assert not _compare(_tree(work), _tree(case / "after")), "a second apply changed the files"


def test_every_rule_has_golden_cases_and_docs() -> None:
    docs = GOLDEN.parent / "docs" / "rules"
    for name, rule in all_rules().items():
        cases = [c for c in CASES if c.parent.name == name]
        assert len(cases) >= 12, f"{name}: only {len(cases)} golden cases"
        negative = [c for c in cases if _tree(c / "before") == _tree(c / "after")]
        assert negative, f"{name}: no negative golden case (after/ equal to before/)"
        assert rule.doc.text.startswith(f"# `{name}`"), f"{name}: its README.md does not start with its name"
        assert not rule.doc.missing(), f"{name}: README.md lacks {rule.doc.missing()}"
        page = docs / f"{name}.md"
        assert page.is_file() and page.read_text() == rule.doc.text, (
            f"docs/rules/{name}.md differs from its rule's README.md: run `python scripts/rule_docs.py`"
        )
        assert f"({name}.md)" in (docs / "README.md").read_text(), f"{name}: not linked from docs/rules/README.md"
