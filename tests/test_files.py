"""File discovery: .gitignore-aware, skipping what a project never wants touched."""

import subprocess

from conftest import write_tree
from idem_fix.codemods.engine.files import discover


def names(files, root):
    return sorted(f.path.relative_to(root).as_posix() for f in files)


def test_skips_virtualenvs_node_modules_migrations_and_hidden_folders(tmp_path):
    root = write_tree(tmp_path, {
        "app/tasks.py": "",
        "app/migrations/0001_initial.py": "",
        "node_modules/pkg/x.py": "",
        ".tox/py/x.py": "",
        "venv/lib/x.py": "",
        "myenv/pyvenv.cfg": "",
        "myenv/lib/site.py": "",
        "app/README.md": "",
    })
    assert names(discover([root]), root) == ["app/tasks.py"]


def test_migration_modules_are_skipped_but_tasks_kept_in_a_migrations_package(tmp_path):
    root = write_tree(tmp_path, {
        "app/migrations/__init__.py": "",
        "app/migrations/0001_initial.py": "",
        "app/migrations/0002_squashed_0004_add-sync-user.py": "",
        "app/migrations/10006_fix_escape_chars.py": "",
        "app/migrations/tasks/__init__.py": "",
        "app/migrations/tasks/backfill.py": "",
    })
    assert names(discover([root]), root) == [
        "app/migrations/__init__.py", "app/migrations/tasks/__init__.py", "app/migrations/tasks/backfill.py",
    ]


def test_honours_gitignore_in_a_git_checkout(tmp_path):
    root = write_tree(tmp_path, {
        ".gitignore": "generated/\n*_pb2.py\n",
        "app/tasks.py": "",
        "app/api_pb2.py": "",
        "generated/tasks.py": "",
        "app/.gitignore": "local_settings.py\n",
        "app/local_settings.py": "",
    })
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    assert names(discover([root]), root) == ["app/tasks.py"]


def test_gitignore_of_a_parent_folder_applies_to_a_subfolder_argument(tmp_path):
    root = write_tree(tmp_path, {".gitignore": "*_gen.py\n", "app/tasks.py": "", "app/x_gen.py": ""})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    assert names(discover([root / "app"]), root) == ["app/tasks.py"]


def test_files_named_explicitly_are_included_once(tmp_path):
    root = write_tree(tmp_path, {"app/tasks.py": "", "app/other.py": ""})
    found = discover([root / "app" / "tasks.py", root, root / "app" / "tasks.py"])
    assert names(found, root) == ["app/other.py", "app/tasks.py"]
