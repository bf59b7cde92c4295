"""The summary cache and the process pool: same results, less work."""

from __future__ import annotations

import gc
import json
import os
import pickle
import subprocess
import sys
import weakref

import pytest
from conftest import write_tree
from idem_fix.cli.report import to_json
from idem_fix.codemods.engine import assess
from idem_fix.codemods.engine import rules as rules_module
from idem_fix.codemods.engine.audit import audit
from idem_fix.codemods.engine.config import Config
from idem_fix.codemods.engine.files import discover
from idem_fix.codemods.engine.loader import Loader, imported_names
from idem_fix.codemods.engine.pool import as_if_serial
from idem_fix.codemods.engine.project import Project
from idem_fix.codemods.engine.report import Report, TaskReport
from idem_fix.codemods.engine.rules import Options, all_rules
from idem_fix.codemods.engine.runner import find_files, run_rules, steps_for

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
    project = Project(discover([root]), Config(), cache_dir=cache, jobs=jobs)
    project.loader.cache.save()
    return project


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
    monkeypatch.setattr(rules_module, "FORK_THRESHOLD", 1)  # the rules run side by side too
    rules = list(all_rules().values())
    runs = [
        run_rules([root], steps_for(rules, False), Options(), Config(), use_cache=False, jobs=jobs)
        for jobs in (1, 2)
    ]
    assert runs[0].project.stats.summarized == runs[1].project.stats.summarized > 0
    assert [str(f) for f in runs[0].findings] == [str(f) for f in runs[1].findings]
    assert [(c.path, c.new) for c in runs[0].changes] == [(c.path, c.new) for c in runs[1].changes]
    assert len(runs[0].findings) >= 60
    reports = [audit([root], Config(), "test", use_cache=False, jobs=jobs, render=to_json)[0] for jobs in (1, 2)]
    assert reports[0].renderings == reports[1].renderings


class _LazyIndex:
    """Loads names on demand, as the project loads modules: what a look-up sees depends on earlier ones."""

    def __init__(self):
        self.loaded: list[str] = []

    def look(self, name: str, loads: bool = False):
        if loads and name not in self.loaded:
            self.loaded.append(name)
        return name, tuple(self.loaded), os.getpid()


def test_units_side_by_side_give_the_serial_results():
    index = _LazyIndex()
    units = [lambda n=n: index.look(n) for n in "abcd"]
    results = as_if_serial(units, 2, lambda: len(index.loaded))
    assert [r[:2] for r in results] == [(n, ()) for n in "abcd"]
    assert os.getpid() not in {r[2] for r in results}  # all ran in workers


def test_a_unit_that_loads_makes_the_loop_run_again_here():
    index = _LazyIndex()
    units = [lambda: index.look("a"), lambda: index.look("b", loads=True), lambda: index.look("c")]
    results = as_if_serial(units, 2, lambda: len(index.loaded))
    assert [r[:2] for r in results] == [("a", ()), ("b", ("b",)), ("c", ("b",))]  # what the loop gives
    assert {r[2] for r in results} == {os.getpid()}
    assert index.loaded == ["b"]  # the load happened here as well


def test_a_result_that_cannot_cross_processes_makes_the_loop_run_here():
    results = as_if_serial([lambda: (lambda: os.getpid()), lambda: os.getpid()], 2, lambda: 0)
    assert results[0]() == results[1] == os.getpid()


def test_the_cache_folder_tells_git_to_ignore_it(tmp_path):
    root = _tree(tmp_path / "p", 1)
    _project(root, tmp_path / "cache")
    assert (tmp_path / "cache" / ".gitignore").read_text().strip().endswith("*")


def test_imports_are_read_from_the_bytes_relative_aliased_and_parenthesized():
    source = b'''"""Docs."""
import os, json as j
from . import models
from ..billing.services import (
    CreateInvoice,  # the service
    CreateRefund as Refund,
)
from .models import *
    from app.helpers import fmt
'''
    names = imported_names(source, "shop.orders.tasks", is_package=False)
    assert names == {
        "os", "json", "shop.orders", "shop.orders.models", "shop.billing.services",
        "shop.billing.services.CreateInvoice", "shop.billing.services.CreateRefund", "app.helpers", "app.helpers.fmt",
    }
    assert imported_names(b"from . import tasks\n", "shop.orders", is_package=True) == {"shop.orders", "shop.orders.tasks"}


def test_what_tasks_import_is_summarized_up_front_not_one_file_at_a_time(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "p", {
        "shop/__init__.py": "",
        "shop/tasks.py": "from celery import shared_task\nfrom .services import pay\n\n@shared_task\ndef t(k):\n    pay(k)\n",
        "shop/services.py": "from .models import Payment\n\ndef pay(k):\n    Payment.objects.create(key=k)\n",
        "shop/models.py": "from django.db import models\n\nclass Payment(models.Model):\n    key = models.CharField(unique=True)\n",
        "shop/views.py": "def view(request):\n    return None\n",
    })

    def one_by_one(self, path, entry):
        raise AssertionError(f"{path} was summarized on its own")

    monkeypatch.setattr(Loader, "summarize_later", one_by_one)
    project = _project(root, None)
    assert [k.qualname for k in project.reach] == ["t", "pay"]
    assert "shop.views" not in project.modules  # imported by nothing a task reaches: never parsed


def test_a_warm_audit_of_an_unchanged_project_reuses_the_report(tmp_path, monkeypatch):
    root = _tree(tmp_path / "p", 3)
    monkeypatch.chdir(root)
    monkeypatch.setenv("IDEM_FIX_CACHE_DIR", str(tmp_path / "cache"))
    cold, _ = audit([root], Config(), "test")

    def no_index(*args, **kwargs):
        raise AssertionError("the project was indexed again")

    monkeypatch.setattr(assess, "index", no_index)
    warm, _ = audit([root], Config(), "test")
    assert [(t.name, t.risk) for t in warm.tasks] == [(t.name, t.risk) for t in cold.tasks]
    with pytest.raises(AssertionError, match="indexed again"):
        audit([root], Config(task_decorators=["cron"]), "test")  # another configuration


def test_a_rendered_report_is_reused_with_it(tmp_path, monkeypatch):
    root = _tree(tmp_path / "p", 2)
    monkeypatch.chdir(root)
    monkeypatch.setenv("IDEM_FIX_CACHE_DIR", str(tmp_path / "cache"))
    calls = []

    def as_names(report):
        calls.append("names")
        return " ".join(t.name for t in report.tasks)

    def as_risks(report):
        calls.append("risks")
        return " ".join(t.risk for t in report.tasks)

    cold, _ = audit([root], Config(), "test", render=as_names)
    warm, _ = audit([root], Config(), "test", render=as_names)
    assert warm.renderings["as_names"] == cold.renderings["as_names"] == " ".join(t.name for t in cold.tasks)
    audit([root], Config(), "test", render=as_risks)  # another format: rendered once, then kept too
    both, _ = audit([root], Config(), "test", render=as_risks)
    assert calls == ["names", "risks"]
    assert set(both.renderings) == {"as_names", "as_risks"}


def test_a_cached_report_reads_its_tasks_only_when_they_are_used(tmp_path, monkeypatch):
    root = _tree(tmp_path / "p", 2)
    monkeypatch.chdir(root)
    monkeypatch.setenv("IDEM_FIX_CACHE_DIR", str(tmp_path / "cache"))
    cold, _ = audit([root], Config(), "test", render=lambda report: "text")
    warm, _ = audit([root], Config(), "test", render=lambda report: "text")
    assert "tasks" not in vars(warm) and warm.renderings == cold.renderings
    assert warm.tasks == cold.tasks and "tasks" in vars(warm)
    assert warm == cold


def test_tasks_set_on_a_loaded_report_are_the_ones_saved():
    report = Report("v", [TaskReport("t", "t", "m", "m.py", 1, "low")], [], 1)
    loaded = pickle.loads(pickle.dumps(report))
    loaded.tasks = []
    assert pickle.loads(pickle.dumps(loaded)).tasks == []


def test_a_warm_audit_loads_none_of_the_analysis(tmp_path):
    """Reusing the last report needs the file list, the cache and a renderer: importing the index,
    the rules, libcst or rich would cost a warm run more than its work."""
    root = _tree(tmp_path / "p", 2)
    program = (
        "import json, sys\n"
        "from idem_fix.cli.main import main\n"
        f"sys.argv = ['idem-fix', 'audit', {str(root)!r}, '--format', 'json', '--output', {str(tmp_path / 'out.json')!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded, reports = [], []
    for _ in range(2):
        run = subprocess.run([sys.executable, "-c", program], cwd=root, capture_output=True, text=True, check=True)
        loaded.append(json.loads(run.stdout))
        reports.append((tmp_path / "out.json").read_text())
    assert reports[0] == reports[1] and json.loads(reports[0])["tasks"]
    heavy = {
        "idem_fix.codemods.engine.project", "idem_fix.codemods.engine.entities", "idem_fix.codemods.engine.loader",
        "idem_fix.codemods.engine.rules", "libcst", "rich.console",
    }
    assert heavy <= set(loaded[0])  # the cold run needs them, so the check below can fail
    assert heavy.isdisjoint(loaded[1])
    assert "pydantic" not in {*loaded[0], *loaded[1]}  # typer 0.29 loads it on every run: see pyproject.toml


def test_a_changed_file_makes_a_new_report(tmp_path, monkeypatch):
    root = _tree(tmp_path / "p", 2)
    monkeypatch.chdir(root)
    monkeypatch.setenv("IDEM_FIX_CACHE_DIR", str(tmp_path / "cache"))
    before, _ = audit([root], Config(), "test")
    tasks = root / "app1" / "tasks.py"
    tasks.write_text(tasks.read_text().replace('Row1.objects.create(key=key, kind="x")', "Row1.objects.filter(key=key).delete()"))
    after, _ = audit([root], Config(), "test")
    risks = {t.name: t.risk for t in after.tasks}
    assert {t.name: t.risk for t in before.tasks}["app1.tasks.make1"] != risks["app1.tasks.make1"] == "low"


def test_files_are_named_from_their_context_root_whatever_the_order_of_the_paths(tmp_path):
    root = write_tree(tmp_path / "p", {"app/__init__.py": "", "app/tasks.py": "", "app/base.py": ""})
    for paths in ([root / "app", root], [root, root / "app"]):
        files = find_files(paths)
        assert {f.root for f in files.all} == {root}, paths


def test_what_the_import_scan_summarized_ahead_does_not_change_the_index(tmp_path):
    """Files summarized because an import line names them are not loaded until a look-up needs them:
    a mention of an import in a docstring must not change what the index knows (subclasses here)."""
    files = {
        "app/__init__.py": "",
        "app/base.py": "class Base:\n    def go(self):\n        self.step()\n\n    def step(self):\n        pass\n",
        "app/impl.py": (
            "from app.base import Base\nfrom app.models import Row\n\n\nclass Impl(Base):\n"
            "    def step(self):\n        Row.objects.create(key=1)\n        Row.objects.create(key=2)\n"
        ),
        "app/models.py": "from django.db import models\n\n\nclass Row(models.Model):\n    key = models.IntegerField()\n",
    }
    task = "from celery import shared_task\nfrom app.base import Base\n\n\n@shared_task\ndef run_it():\n    Base().go()\n"
    reaches = []
    for docstring in ('"""Runs Base."""\n', '"""Runs Base. Not:\n\n    from app.impl import Impl\n"""\n'):
        root = write_tree(tmp_path / str(len(reaches)), {**files, "app/tasks.py": docstring + task})
        reaches.append(sorted(key.qualname for key in _project(root, None).reach))
    assert reaches[0] == reaches[1] == ["Base.go", "Base.step", "run_it"]


def test_each_rule_of_an_apply_frees_the_index_of_the_rule_before(tmp_path, monkeypatch):
    """The command line turns the cyclic collector off; an index holds cycles, so a run of several
    rules would otherwise keep every rule's index until it ends."""
    root = write_tree(tmp_path / "p", {
        "app/__init__.py": "",
        "app/models.py": MODELS.format(n=0) + MODELS.format(n=1),
        "app/tasks.py": (
            "import requests\nfrom celery import shared_task\nfrom django.core.mail import send_mail\nfrom app.models import Row0, Row1\n\n"
            "@shared_task\ndef make(key):\n    Row0.objects.create(key=key, kind='x')\n    Row1.objects.create(key=key, kind='y')\n\n"
            "@shared_task\ndef notify(row_id):\n    row = Row0.objects.get(id=row_id)\n    send_mail('s', 'b', 'a@b.c', [row.kind])\n\n"
            "def fetch_ref(row):\n    return requests.post('https://api.example.com/book', json={'id': row.id}).json()['ref']\n\n"
            "@shared_task\ndef book(row_id):\n    row = Row0.objects.get(id=row_id)\n    row.kind = fetch_ref(row)\n    row.save()\n"
        ),
    })
    monkeypatch.chdir(root)
    made = []
    build = Project.__post_init__
    monkeypatch.setattr(Project, "__post_init__", lambda self: (build(self), made.append(weakref.ref(self))))
    rules = list(all_rules().values())
    gc.disable()
    try:
        run_rules([root], steps_for(rules, True), Options(unsafe_fixes=True), Config(), use_cache=False)
        freed = [ref() is None for ref in made]  # before the collector runs again
    finally:
        gc.enable()
    assert len(made) == len(rules)  # one index per rule: each rule's output was indexed again
    assert all(freed[1:-1])  # the first is the run's; the last may still be in use
