"""The rewritten lines in the project's own style: its formatter (ruff format or black, on the touched
lines only) and its import sorter (ruff's I rules or isort) when it uses one, found in its configuration
the way those tools find it. A file whose imports were not sorted before the rewrite keeps its imports
as they were: only what idem-fix wrote is reformatted. The tools run on the text through stdin; none is
given anything from the project but its configuration."""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class FormatError(Exception):
    pass


@dataclass(frozen=True)
class Style:
    formatter: str | None  # "ruff" | "black" | None
    imports: str | None  # "ruff" | "isort" | None

    def __bool__(self) -> bool:
        return bool(self.formatter or self.imports)


def project_style(start: Path, top: Path | None = None) -> Style:
    """What the nearest configuration (pyproject.toml, ruff.toml, .isort.cfg) between `start` and `top`
    says the project formats with."""
    for directory in [start, *start.parents]:
        ruff_file = next((directory / n for n in ("ruff.toml", ".ruff.toml") if (directory / n).is_file()), None)
        pyproject = directory / "pyproject.toml"
        tool = _tool_tables(pyproject) if pyproject.is_file() else {}
        ruff = _read(ruff_file) if ruff_file else tool.get("ruff")
        if ruff_file or pyproject.is_file() or (directory / ".isort.cfg").is_file():  # the nearest decides, as for the tools
            formatter = "ruff" if ruff is not None and _have("ruff") else "black" if "black" in tool else None
            imports = "ruff" if ruff is not None and _sorts_imports(ruff) and _have("ruff") else None
            if imports is None and ("isort" in tool or (directory / ".isort.cfg").is_file()) and _have("isort"):
                imports = "isort"
            return Style(formatter, imports)
        if top is not None and directory == top:
            break
    return Style(None, None)


def restyle(path: Path, old: bytes, new: bytes, style: Style, cwd: Path) -> bytes:
    """`new` with the lines that differ from `old` formatted, and its imports sorted when `old`'s were."""
    if not style or new == old:
        return new
    if style.imports and _imports_sorted(path, old, style.imports, cwd):
        new = _sort_imports(path, new, style.imports, cwd)
    if style.formatter:
        for first, last in reversed(touched_lines(old, new)):  # bottom up: earlier lines keep their numbers
            new = _run(_format_command(style.formatter, path, first, last), new, cwd, f"{style.formatter} format")
    return new


def restyle_changes(changes, start: Path, cwd: Path) -> None:
    """Each changed file's rewritten lines in the style of the project around `start` (what `apply`
    writes); a tool's failure leaves that file unchanged, with the reason."""
    style = project_style(start.absolute())
    for change in changes if style else ():
        try:
            change.new = restyle(change.path, change.old, change.new, style, cwd)
        except FormatError as error:
            change.error = f"{error}; left unchanged"


def touched_lines(old: bytes, new: bytes) -> list[tuple[int, int]]:
    """The 1-based, inclusive line ranges of `new` that differ from `old` (replaced or inserted)."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    ranges: list[tuple[int, int]] = []
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert") and j2 > j1:
            if ranges and ranges[-1][1] >= j1:
                ranges[-1] = (ranges[-1][0], j2)
            else:
                ranges.append((j1 + 1, j2))
    return ranges


def _format_command(formatter: str, path: Path, first: int, last: int) -> list[str]:
    if formatter == "ruff":
        return [_tool("ruff"), "format", f"--range={first}-{last}", "--stdin-filename", str(path), "-"]
    return [sys.executable, "-m", "black", "--quiet", f"--line-ranges={first}-{last}", "--stdin-filename", str(path), "-"]


def _imports_sorted(path: Path, source: bytes, sorter: str, cwd: Path) -> bool:
    if sorter == "ruff":
        command = [_tool("ruff"), "check", "--select", "I", "--quiet", "--stdin-filename", str(path), "-"]
    else:
        command = [_tool("isort"), "--check-only", "--quiet", "--filename", str(path), "-"]
    return subprocess.run(command, input=source, cwd=cwd, capture_output=True, timeout=120).returncode == 0


def _sort_imports(path: Path, source: bytes, sorter: str, cwd: Path) -> bytes:
    if sorter == "ruff":
        command = [_tool("ruff"), "check", "--select", "I", "--fix", "--quiet", "--stdin-filename", str(path), "-"]
        done = subprocess.run(command, input=source, cwd=cwd, capture_output=True, timeout=120)
        return done.stdout if done.stdout else source  # exit 1 only says other problems remain
    return _run([_tool("isort"), "--quiet", "--filename", str(path), "-"], source, cwd, "isort")


def _run(command: list[str], source: bytes, cwd: Path, what: str) -> bytes:
    try:
        done = subprocess.run(command, input=source, cwd=cwd, capture_output=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise FormatError(f"cannot run {what}: {error}") from None
    if done.returncode != 0:
        said = " ".join(done.stderr.decode("utf-8", "replace").split())[:500]
        raise FormatError(f"{what} could not format the rewritten lines: {said or f'exit {done.returncode}'}")
    return done.stdout


def _tool_tables(pyproject: Path) -> dict:
    data = _read(pyproject) or {}
    tool = data.get("tool", {})
    return {name: table for name, table in tool.items() if name in ("ruff", "black", "isort") and isinstance(table, dict)}


def _read(path: Path) -> dict | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def _sorts_imports(ruff: dict) -> bool:
    """Whether the ruff configuration turns on the import-sorting rule (I001, through I or ALL)."""
    lint = ruff.get("lint", {}) if isinstance(ruff.get("lint"), dict) else {}
    chosen = [*ruff.get("select", []), *ruff.get("extend-select", []), *lint.get("select", []), *lint.get("extend-select", [])]
    return any(isinstance(code, str) and ("I001".startswith(code) and code.startswith("I") or code == "ALL") for code in chosen)


def _have(name: str) -> bool:
    return bool(_tool(name))


def _tool(name: str) -> str:
    """The tool next to this Python first (the environment idem-fix runs in), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() else shutil.which(name) or ""
