"""Shared fixtures: small projects written from a dict of files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from idem_fix.codemods.engine.config import Config
from idem_fix.codemods.engine.files import discover
from idem_fix.codemods.engine.project import Project


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


@pytest.fixture
def make_project(tmp_path):
    """make_project({"app/tasks.py": "..."}) -> an indexed Project over those files."""

    def make(files: dict[str, str], load_everything: bool = False, config: Config | None = None) -> Project:
        root = write_tree(tmp_path / "project", files)
        return Project(discover([root]), config or Config(), load_everything=load_everything)

    return make
