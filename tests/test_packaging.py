"""The wheel as a user installs it: built from the sources offline, installed into a fresh virtual
environment (its dependencies taken from this one, idem-fix only from the wheel), then `idem-fix
--version`, `python -m idem_fix audit examples/shop` and every rule with its documentation work."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from idem_fix.cli import __version__

ROOT = Path(__file__).resolve().parent.parent


def _run(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("cli", "codemods"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", work / "dist", source)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (work / "dist").glob("idem_fix-*.whl")
    venv = work / "venv"
    made = _run(sys.executable, "-m", "venv", venv)
    assert made.returncode == 0, made.stderr
    bin_dir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    python = bin_dir / "python"
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    # this environment's packages (libcst, typer, ...) without its editable idem-fix: a folder named in a
    # .pth file is added to the path, but the .pth files inside it (the editable finder) are not run
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = _run(python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel)
    assert done.returncode == 0, done.stdout + done.stderr
    return bin_dir


def test_the_wheel_is_what_runs(installed):
    where = _run(installed / "python", "-c", "import idem_fix.codemods.engine; print(idem_fix.codemods.engine.__file__)")
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(installed.parent)), where.stdout


def test_version_from_the_command_and_from_python_dash_m(installed):
    assert _run(installed / "idem-fix", "--version").stdout == f"idem-fix {__version__}\n"
    assert _run(installed / "python", "-m", "idem_fix", "--version").stdout == f"idem-fix {__version__}\n"


def test_python_dash_m_audits_the_bundled_example(installed, tmp_path):
    shutil.copytree(ROOT / "examples" / "shop", tmp_path / "shop")
    result = _run(installed / "python", "-m", "idem_fix", "audit", "--format", "json", "shop", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["tasks"] == 15 and "accounts.tasks.send_host_welcome_email" in {t["name"] for t in report["tasks"]}


def test_every_rule_and_its_documentation_are_in_the_wheel(installed):
    from idem_fix.codemods.engine.rules import all_rules

    listed = _run(installed / "idem-fix", "rules")
    assert listed.returncode == 0, listed.stderr
    for name in all_rules():
        assert name in listed.stdout
        explained = _run(installed / "idem-fix", "explain", name)
        assert explained.returncode == 0 and explained.stdout.startswith(f"# `{name}`"), explained.stderr
