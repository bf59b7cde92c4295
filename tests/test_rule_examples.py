"""Every rule's examples (codemods/<rule>/examples.py) run as tests: the rule makes the one finding the
example names, with its applicability and reason; `apply` writes exactly the fixed files (plain apply
for a safe fix, `--unsafe-fixes` for an unsafe one, nothing for the rest), and a second apply changes
nothing. The Python blocks of each rule's README compile."""

from __future__ import annotations

import importlib
import re
import textwrap

import pytest
from typer.testing import CliRunner

from conftest import write_tree
from idem_fix.cli.main import app
from idem_fix.codemods.engine.rules import all_rules

RULES = all_rules()


def _examples(rule) -> list:
    """`codemods/<rule>/examples.py`, beside the rule's package."""
    return importlib.import_module(".".join(type(rule).__module__.split(".")[:3]) + ".examples").EXAMPLES


EXAMPLES = [(name, example) for name, rule in RULES.items() for example in _examples(rule)]


def _tree(root) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}


def _apply(root, monkeypatch, rule: str, args: list[str]):
    monkeypatch.chdir(root)
    return CliRunner().invoke(app, ["apply", "--no-cache", "--rule", rule, *args, "."])


@pytest.mark.parametrize("rule, example", EXAMPLES, ids=[f"{r}/{e.name}" for r, e in EXAMPLES])
def test_example(rule, example, tmp_path, monkeypatch):
    root = write_tree(tmp_path / "project", example.files)
    before = _tree(root)
    dry = _apply(root, monkeypatch, rule, ["--dry-run", "--unsafe-fixes", *example.args])
    assert dry.exit_code == (1 if example.fixed else 0), dry.output  # 1: a diff to show
    lines = [line for line in dry.output.splitlines() if re.match(r"^\S+\.py:\d+: ", line)]
    assert len(lines) == 1, f"expected one finding, got:\n{dry.output}"
    label = {"safe": "would rewrite (safe)", "unsafe": "would rewrite (unsafe)", "manual": "needs a person", None: "left alone"}
    assert label[example.applicability] in lines[0], lines[0]
    assert example.reason in lines[0], lines[0]
    plain = _apply(root, monkeypatch, rule, list(example.args))
    assert plain.exit_code == 0, plain.output
    expected = {**before, **{k: textwrap.dedent(v).lstrip("\n") for k, v in example.fixed.items()}}
    if example.applicability == "unsafe":
        assert _tree(root) == before, "plain apply wrote an unsafe fix"
        assert _apply(root, monkeypatch, rule, ["--unsafe-fixes", *example.args]).exit_code == 0
    assert _tree(root) == expected
    again = _apply(root, monkeypatch, rule, ["--unsafe-fixes", *example.args])
    assert again.exit_code == 0 and _tree(root) == expected, "a second apply changed the files"


@pytest.mark.parametrize("name", sorted(RULES))
def test_readme_code_compiles(name):
    blocks = re.findall(r"```python\n(.*?)```", RULES[name].doc.text, re.S)
    assert len(blocks) >= 2, f"{name}: README.md needs an example and a use-instead block"
    for block in blocks:
        compile(textwrap.dedent(block), f"{name}/README.md", "exec")


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_applicability_a_rule_claims_has_an_example(name):
    rule = RULES[name]
    claimed = {str(a) for a in rule.applicabilities}
    shown = {e.applicability for r, e in EXAMPLES if r == name}
    assert claimed <= shown, f"{name}: no example of {sorted(claimed - shown)}"
