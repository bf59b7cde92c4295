"""The benchmark's synthetic tree is valid Python, deterministic, and has what the audit looks for."""

import ast
import importlib.util
import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from idem_fix.cli.main import app

BENCH = Path(__file__).resolve().parent.parent / "bench" / "generate.py"


def _generator():
    spec = importlib.util.spec_from_file_location("bench_generate", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_small_tree_parses_is_deterministic_and_has_risky_tasks(tmp_path, monkeypatch):
    generate = _generator().generate
    counts = generate(tmp_path / "a", files=60, seed=7)
    generate(tmp_path / "b", files=60, seed=7)
    files = sorted((tmp_path / "a").rglob("*.py"))
    assert len(files) == counts["files"] == 60
    for path in files:
        ast.parse(path.read_bytes(), filename=str(path))
        assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes()
    monkeypatch.chdir(tmp_path / "a")
    result = CliRunner().invoke(app, ["audit", "--no-cache", "--format", "json", "."])
    report = json.loads(result.stdout)
    assert report["summary"]["tasks"] > 0
    assert report["summary"]["critical"] + report["summary"]["high"] > 0
