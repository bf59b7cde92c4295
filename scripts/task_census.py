"""An independent count of the Celery tasks in a project, to hold the audit's task discovery against.

Written apart from the engine on purpose (its own file walk and its own reading of decorators), so that
the two can disagree: a task this scan lists and the audit misses is a gap in the audit; one the audit
lists and this scan does not is worth a look too. Run by hand on fetched trees, never in CI:

    python scripts/task_census.py /work/realcode/pretalx            # the scan, and the audit beside it
    python scripts/task_census.py TREE --list                       # every task either side found

What counts as a task here: a function decorated with `shared_task`, `periodic_task`, `<anything>.task`
or `task` (called or not), or with a name that some module of the project binds to one of those
(`project_task = shared_task`, `retrying = app.task(bind=True)`, `partial(shared_task, ...)`), or with a
project function whose body applies one of those; `run()` of a class whose bases include a name ending
in `Task`; and `<app>.task(fn)` / `shared_task(fn)` registrations of a module-level function. Django
migration modules (a `class Migration` in a `migrations` folder), virtualenvs, `node_modules` and
`site-packages` are left out; files the running Python cannot parse are counted as unreadable.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

SKIP = {"node_modules", "site-packages", "__pycache__", ".git", ".tox", ".venv", "venv"}
TASK_WORDS = {"shared_task", "periodic_task", "task"}


def python_files(root: Path):
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP and not os.path.isfile(os.path.join(folder, d, "pyvenv.cfg")))
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(folder) / name


def last_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def applies_a_task_decorator(node: ast.AST, aliases: set[str]) -> bool:
    """The expression is, calls or partially applies a task decorator."""
    if isinstance(node, ast.Call) and last_name(node.func) == "partial" and node.args:
        return applies_a_task_decorator(node.args[0], aliases)
    name = last_name(node)
    return name in TASK_WORDS or name in aliases


def is_migration(path: Path, tree: ast.Module) -> bool:
    return "migrations" in path.parts and any(isinstance(n, ast.ClassDef) and n.name == "Migration" for n in tree.body)


def read(root: Path) -> tuple[dict[Path, ast.Module], list[str]]:
    trees, unreadable = {}, []
    for path in python_files(root):
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError) as error:
            unreadable.append(f"{path.relative_to(root)}: {error.__class__.__name__}: {error}")
            continue
        if not is_migration(path, tree):
            trees[path] = tree
    return trees, unreadable


def aliases_in(trees: dict[Path, ast.Module]) -> set[str]:
    """Names bound to a task decorator anywhere in the project, and project functions that apply one,
    until nothing new turns up (an alias of an alias)."""
    aliases: set[str] = set()
    while True:
        found = set(aliases)
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign) and applies_a_task_decorator(node.value, found):
                    found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name not in TASK_WORDS:
                    inner = [n for statement in node.body for n in ast.walk(statement)]  # not its own decorators
                    if any(isinstance(n, ast.Call) and applies_a_task_decorator(n.func, found) for n in inner):
                        found.add(node.name)
        if found == aliases:
            return aliases
        aliases = found


def foreign_task_names(tree: ast.Module) -> set[str]:
    """Bare names like `task` imported from a library that is not Celery (`from invoke import task`)."""
    return {
        alias.asname or alias.name
        for node in tree.body if isinstance(node, ast.ImportFrom) and not (node.module or "").startswith("celery") and node.level == 0
        for alias in node.names if alias.name in TASK_WORDS
    }


def _foreign(decorator: ast.AST, foreign: set[str]) -> bool:
    node = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(node, ast.Name) and node.id in foreign


def census(root: Path) -> tuple[set[tuple[str, int]], list[str]]:
    """{(path relative to root, line of the def or class)} and the files that could not be parsed."""
    trees, unreadable = read(root)
    aliases = aliases_in(trees)
    tasks: set[tuple[str, int]] = set()
    for path, tree in trees.items():
        relative = str(path.relative_to(root))
        defined = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        foreign = foreign_task_names(tree)
        local_aliases = aliases - foreign
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name not in aliases:
                if any(applies_a_task_decorator(d, local_aliases) and not _foreign(d, foreign) for d in node.decorator_list):
                    tasks.add((relative, node.lineno))
            elif isinstance(node, ast.ClassDef) and any(last_name(b).endswith("Task") for b in node.bases):
                if any(isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name == "run" for m in node.body):
                    tasks.add((relative, node.lineno))
            elif isinstance(node, ast.Call) and applies_a_task_decorator(node.func, local_aliases) and not _foreign(node.func, foreign) and node.args:
                target = node.args[0]
                if isinstance(target, ast.Name) and target.id in defined:
                    tasks.add((relative, defined[target.id].lineno))
    return tasks, unreadable


def audited(root: Path) -> set[tuple[str, int]]:
    """The tasks `idem-fix audit` lists, as (path relative to root, line)."""
    done = subprocess.run(
        [sys.executable, "-m", "idem_fix.cli", "audit", str(root), "--format", "json", "--no-cache"],
        capture_output=True, text=True, check=False,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"idem-fix audit failed:\n{done.stderr}")
    found = set()
    for task in json.loads(done.stdout)["tasks"]:
        found.add((os.path.relpath(os.path.abspath(task["path"]), root.resolve()), task["line"]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("--list", action="store_true", help="list every task only one side found")
    args = parser.parse_args()
    print(f"{'project':<28}{'scan':>6}{'audit':>7}{'both':>6}{'coverage':>10}  unreadable")
    for root in args.trees:
        scanned, unreadable = census(root)
        seen = audited(root)
        both = scanned & seen
        coverage = f"{100 * len(both) / len(scanned):.1f}%" if scanned else "n/a"
        print(f"{root.name:<28}{len(scanned):>6}{len(seen):>7}{len(both):>6}{coverage:>10}  {len(unreadable)}")
        if args.list:
            for path, line in sorted(scanned - seen):
                print(f"    missed by the audit: {path}:{line}")
            for path, line in sorted(seen - scanned):
                print(f"    only in the audit:   {path}:{line}")
            for problem in unreadable:
                print(f"    unreadable: {problem}")


if __name__ == "__main__":
    main()
