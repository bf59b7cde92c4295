"""scripts/realcode.py on a tiny fake fetched project: unjudged hunks, verdicts that pass or fail, stale ones."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import write_tree

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "realcode.py"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
RULE = "create-to-get-or-create"
HUNK = f"tiny: app/tasks.py:8 [{RULE}] (safe)"


def _load_script():
    spec = importlib.util.spec_from_file_location("realcode", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


realcode = _load_script()


@pytest.fixture
def fetched(tmp_path):
    """A fetched tree `tiny` whose task creates a row with every field of its unique_together."""
    write_tree(tmp_path / "trees" / "tiny", {
        ".commit": COMMIT + "\n",
        "app/__init__.py": "",
        "app/models.py": """
            from django.db import models


            class Enrolment(models.Model):
                student_id = models.IntegerField()
                course_id = models.IntegerField()
                note = models.TextField()

                class Meta:
                    unique_together = ("student_id", "course_id")
        """,
        "app/tasks.py": """
            from celery import shared_task

            from .models import Enrolment


            @shared_task
            def enrol(student_id, course_id, note):
                Enrolment.objects.create(student_id=student_id, course_id=course_id, note=note)
        """,
    })
    return tmp_path


def check(tmp_path: Path, verdicts: str = "", *extra: str) -> int:
    """Write verdicts.toml for `tiny` (plus `verdicts`) and run the script on it."""
    path = tmp_path / "verdicts.toml"
    path.write_text(f'[projects.tiny]\nrepo = "example/tiny"\ncommit = "{COMMIT}"\n' + textwrap.dedent(verdicts))
    args = ["--trees", str(tmp_path / "trees"), "--verdicts", str(path), "--rule", RULE, "--jobs", "1", *extra]
    return realcode.main(args)


def verdict(word: str, line: int = 8) -> str:
    return f"""
        [[verdict]]
        project = "tiny"
        path = "app/tasks.py"
        line = {line}
        rule = "{RULE}"
        applicability = "safe"
        verdict = "{word}"
        why = "The unique_together covers the task's arguments."
    """


def test_an_unjudged_hunk_fails_naming_it_and_gets_a_stub(fetched, capsys):
    todo = fetched / "todo.toml"
    assert check(fetched, "", "--todo", str(todo), "--diffs", str(fetched / "diffs")) == 1
    out, err = capsys.readouterr()
    assert f"unjudged: {HUNK}" in err
    assert [line.split() for line in out.splitlines()[:2]] == [
        ["project", "rule", "safe", "unsafe", "correct", "pointless", "harmful", "unsure", "unjudged"],
        ["tiny", RULE, "1", "0", "0", "0", "0", "0", "1"],
    ]
    stub = realcode.tomllib.loads(todo.read_text())["verdict"]
    assert stub == [{"project": "tiny", "path": "app/tasks.py", "line": 8, "rule": RULE, "applicability": "safe", "verdict": "", "why": ""}]
    assert todo.read_text().lstrip().startswith("# ")  # the finding's message, for the reviewer
    assert "get_or_create(" in (fetched / "diffs" / "tiny" / f"{RULE}.plain.diff").read_text()


def test_a_correct_verdict_passes(fetched, capsys):
    assert check(fetched, verdict("correct"), "--markdown", str(fetched / "real-code.md")) == 0
    assert "pointless among safe hunks: 0 of 1 judged (0%)" in capsys.readouterr().out
    assert f"| tiny | {RULE} | 1 | 0 | 1 | 0 | 0 | 0 | 0 |" in (fetched / "real-code.md").read_text()


@pytest.mark.parametrize("word", ["harmful", "unsure"])
def test_a_safe_hunk_judged_harmful_or_unsure_fails(fetched, capsys, word):
    assert check(fetched, verdict(word)) == 1
    assert f"{word} safe hunk: {HUNK}" in capsys.readouterr().err


def test_a_stale_verdict_is_reported(fetched, capsys):
    assert check(fetched, verdict("correct") + verdict("correct", line=3)) == 0
    assert f"stale verdict (its hunk is no longer written; remove it): tiny: app/tasks.py:3 [{RULE}] (safe)" in capsys.readouterr().err


def test_a_tree_at_another_commit_fails(fetched, capsys):
    (fetched / "trees" / "tiny" / ".commit").write_text("f" * 40 + "\n")
    assert check(fetched, verdict("correct")) == 1
    assert "tiny: " in capsys.readouterr().err


def test_a_verdict_without_a_verdict_word_is_refused(fetched, capsys):
    assert check(fetched, verdict("")) == 2
    assert "verdict is one of correct, pointless, harmful, unsure" in capsys.readouterr().err
