"""The summary cache and the process pool: same results, less work."""

from __future__ import annotations

from conftest import write_tree
from idem_fix.codemods.engine.config import Config
from idem_fix.codemods.engine.files import discover
from idem_fix.codemods.engine.project import Project
from idem_fix.codemods.engine.rules import Options, all_rules
from idem_fix.codemods.engine.runner import analyse

TASKS = """
from celery import shared_task
from app{n}.models import Row{n}

@shared_task
def make{n}(key):
    Row{n}.objects.create(key=key, kind="x")
"""
MODELS = """
from django.db import models

class Row{n}(models.Model):
    key = models.CharField(max_length=10, unique=True)
    kind = models.CharField(max_length=10)
"""


def _tree(root, apps: int):
    files = {}
    for n in range(apps):
        files[f"app{n}/__init__.py"] = ""
        files[f"app{n}/tasks.py"] = TASKS.format(n=n)
        files[f"app{n}/models.py"] = MODELS.format(n=n)
        files[f"app{n}/views.py"] = "def view(request):\n    return None\n"
    return write_tree(root, files)


def _project(root, cache, jobs=1):
    return Project(discover([root]), Config(), cache_dir=cache, jobs=jobs)


def test_a_warm_run_parses_no_unchanged_file(tmp_path):
    root = _tree(tmp_path / "p", 5)
    cold = _project(root, tmp_path / "cache")
    assert cold.stats.summarized > 0
    warm = _project(root, tmp_path / "cache")
    assert warm.stats.summarized == 0
    assert warm.stats.read == 0
    assert warm.stats.from_cache == cold.stats.summarized
    assert [t.name for t in warm.tasks] == [t.name for t in cold.tasks]


def test_a_changed_file_is_parsed_again_and_only_it(tmp_path):
    root = _tree(tmp_path / "p", 5)
    _project(root, tmp_path / "cache")
    (root / "app3" / "tasks.py").write_text(TASKS.format(n=3) + "\n# changed\n")
    warm = _project(root, tmp_path / "cache")
    assert warm.stats.summarized == 1


def test_a_corrupt_cache_is_ignored(tmp_path):
    root = _tree(tmp_path / "p", 2)
    _project(root, tmp_path / "cache")
    (tmp_path / "cache" / "summaries.pickle").write_bytes(b"not a pickle")
    again = _project(root, tmp_path / "cache")
    assert len(again.tasks) == 2


def test_results_are_identical_with_one_and_two_jobs(tmp_path, monkeypatch):
    root = _tree(tmp_path / "p", 60)  # 240 files: above the pool threshold
    monkeypatch.chdir(root)
    rules = list(all_rules().values())
    runs = [
        analyse([root], rules, Options(), Config(), use_cache=False, jobs=jobs)
        for jobs in (1, 2)
    ]
    assert runs[0].project.stats.summarized == runs[1].project.stats.summarized > 0
    assert [str(f) for f in runs[0].findings] == [str(f) for f in runs[1].findings]
    assert len(runs[0].findings) >= 60


def test_the_cache_folder_tells_git_to_ignore_it(tmp_path):
    root = _tree(tmp_path / "p", 1)
    _project(root, tmp_path / "cache")
    assert (tmp_path / "cache" / ".gitignore").read_text().strip().endswith("*")
