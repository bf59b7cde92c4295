"""Benchmark idem-fix on a synthetic Django + Celery tree (see bench/README.md).

Why: the performance targets (cold audit <= 3 s and <= 3x ruff, warm audit <= 0.5 s, peak memory
<= 500 MB on ~850k lines) are only worth something if anyone can re-measure them the same way. This
script generates the tree (or takes `--tree`), runs each command `--runs` times as a child process,
and reports the median wall time, lines/s and peak memory, next to the targets (never asserted).

    python bench/run.py                      # default size, 5 runs each
    python bench/run.py --files 200 --runs 1 # a quick smoke run
    python bench/run.py --tree ~/src/monorepo --skip scaling --json out.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402  (bench/ is a folder of scripts, not a package)

TARGETS = {"audit_cold_s": 3.0, "audit_cold_vs_ruff": 3.0, "audit_warm_s": 0.5, "peak_mb": 500.0}
SAMPLE_EVERY_S = 0.05
MEMORY_METHOD = (
    "max RSS: ru_maxrss from os.wait4() on the child, i.e. the largest single process of its tree "
    "(the CLI or any one worker it spawned and reaped), exact; tree PSS: sum of the proportional set size "
    "(shared pages split between the processes sharing them; RSS where the kernel has no smaps_rollup) over "
    f"the child and all its descendants, sampled every {SAMPLE_EVERY_S * 1000:.0f} ms from /proc (misses shorter spikes)"
)
SECTIONS = ("audit", "apply", "scaling", "ruff")
PROBE_ENV = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}


# --- running one command and measuring it ---


@dataclass
class Sample:
    """One run of one command."""

    seconds: float
    cpu_seconds: float
    max_rss_kb: int
    tree_pss_kb: int
    returncode: int
    stdout: bytes
    stderr: str

    @property
    def error(self) -> str:
        """Why this run's time is worthless ("" when it is not): a crash or a usage error.

        Exit 1 alone is no failure (idem-fix: fixes found or not applied); a traceback is, whatever the code.
        """
        if self.returncode in (0, 1) and "Traceback (most recent call last)" not in self.stderr:
            return ""
        raised = re.findall(r"^(\w+(?:Error|Exception)\b.*)$", self.stderr, re.M)
        return f"exit {self.returncode}" + (f", {raised[-1][:120]}" if raised else "")


@dataclass
class Measurement:
    name: str
    command: List[str]
    lines: int
    runs: List[Sample] = field(default_factory=list)
    extra: Dict[str, object] = field(default_factory=dict)

    @property
    def error(self) -> str:
        return next((r.error for r in self.runs if r.error), "")

    @property
    def median_s(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def lines_per_s(self) -> float:
        return self.lines / self.median_s if self.median_s else 0.0

    @property
    def peak_mb(self) -> float:
        """The larger of the exact single-process peak and the sampled whole-tree peak."""
        return max(max(r.max_rss_kb, r.tree_pss_kb) for r in self.runs) / 1024

    def as_json(self) -> dict:
        return {
            "command": self.command,
            "runs": len(self.runs),
            "median_s": round(self.median_s, 4),
            "times_s": [round(r.seconds, 4) for r in self.runs],
            "cpu_s_median": round(statistics.median(r.cpu_seconds for r in self.runs), 4),
            "lines": self.lines,
            "lines_per_s": round(self.lines_per_s),
            "max_rss_mb": round(max(r.max_rss_kb for r in self.runs) / 1024, 1),
            "tree_pss_mb": round(max(r.tree_pss_kb for r in self.runs) / 1024, 1),
            "peak_mb": round(self.peak_mb, 1),
            "returncodes": sorted({r.returncode for r in self.runs}),
            "error": self.error or None,
            **self.extra,
        }


class TreePssSampler(threading.Thread):
    """Polls /proc for the summed PSS of a process and its descendants. PSS, not RSS: forked workers
    share most of their pages with the parent, and summing RSS would count those pages once per process.

    Why: ru_maxrss from wait4 is the peak of the largest *single* process; with a process pool the
    memory that matters is the sum over the workers. /proc/<pid>/task/*/children is not available
    on every kernel, so descendants are found from the parent pid in /proc/<pid>/stat.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.stop = pid, 0, threading.Event()
        self.page_kb = os.sysconf("SC_PAGE_SIZE") // 1024

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak_kb = max(self.peak_kb, self._tree_pss_kb())
            self.stop.wait(SAMPLE_EVERY_S)

    def _tree_pss_kb(self) -> int:
        parents: Dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                stat = _read(f"/proc/{entry.name}/stat")
                if stat:
                    parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        tree, frontier = {self.pid}, [self.pid]
        while frontier:
            children = [p for p, ppid in parents.items() if ppid in frontier and p not in tree]
            tree.update(children)
            frontier = children
        return sum(self._pss_kb(p) for p in tree)

    def _pss_kb(self, pid: int) -> int:
        for line in (_read(f"/proc/{pid}/smaps_rollup") or "").splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
        return int((_read(f"/proc/{pid}/statm") or "0 0").split()[1]) * self.page_kb


def _read(path: str) -> Optional[str]:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:  # the process ended between listing and reading
        return None


def run_once(command: List[str], cwd: Path) -> Sample:
    """Run `command` with stdout/stderr in temporary files (a pipe could fill up and stall it)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        sampler = TreePssSampler(process.pid) if os.path.isdir("/proc") else None
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, unlike RUSAGE_CHILDREN
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if sampler:
            sampler.stop.set()
            sampler.join()
        out.seek(0), err.seek(0)
        return Sample(
            seconds=seconds,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            max_rss_kb=usage.ru_maxrss,  # kilobytes on Linux
            tree_pss_kb=sampler.peak_kb if sampler else 0,
            returncode=process.returncode,
            stdout=out.read(),
            stderr=err.read().decode("utf-8", "replace"),
        )


def measure(
    name: str, command: List[str], cwd: Path, lines: int, runs: int, warmup: int = 0,
    before_each: Optional[Callable[[int], None]] = None,
) -> Measurement:
    """`before_each(i)`, when given, runs untimed before the i-th timed run."""
    result = Measurement(name, command, lines)
    for i in range(warmup):
        log(f"  {name}: warm-up {i + 1}/{warmup}")
        run_once(command, cwd)
    for i in range(runs):
        if before_each is not None:
            before_each(i)
        sample = run_once(command, cwd)
        result.runs.append(sample)
        log(f"  {name}: run {i + 1}/{runs}: {sample.seconds:.2f} s, max RSS {sample.max_rss_kb / 1024:.0f} MB"
            + (f"  FAILED ({sample.error})" if sample.error else ""))
    return result


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- what exists: idem-fix commands and rules, ruff ---


def find_idem_fix(given: Optional[str]) -> List[str]:
    """The idem-fix next to this interpreter first (the venv it was run from), then PATH."""
    if given:
        return given.split()
    sibling = Path(sys.executable).with_name("idem-fix")
    if sibling.exists():
        return [str(sibling)]
    found = shutil.which("idem-fix")
    if found:
        return [found]
    sys.exit("idem-fix not found: run with the virtualenv's python or pass --idem-fix")


def byte_compile() -> List[str]:
    """Compile idem-fix's modules, as pip does when it installs a package. An editable install run with
    PYTHONDONTWRITEBYTECODE=1 (set on some CI machines and containers) would otherwise compile them
    from source on every run, about 40 ms of a warm audit that no installed copy pays."""
    import compileall

    folders = []
    for package in ("idem_fix.cli", "idem_fix.codemods"):
        try:
            spec = importlib.util.find_spec(package)
        except ModuleNotFoundError:  # no idem_fix at all for this interpreter
            spec = None
        for folder in (spec.submodule_search_locations or []) if spec else []:
            if compileall.compile_dir(folder, quiet=1):
                folders.append(folder)
    log(f"byte-compiled {', '.join(folders) or 'nothing (idem_fix is not importable here)'}")
    return folders


def probe(command: List[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, env=PROBE_ENV, stdin=subprocess.DEVNULL)


def audit_support(idem_fix: List[str]) -> Dict[str, bool]:
    """Whether `audit` exists and which of its options do, read from its --help."""
    help_run = probe([*idem_fix, "audit", "--help"])
    text = help_run.stdout + help_run.stderr if help_run.returncode == 0 else ""
    return {"audit": help_run.returncode == 0, **{opt: opt in text for opt in ("--no-cache", "--format", "--output")}}


def list_rules(idem_fix: List[str]) -> List[str]:
    """Rule names from `idem-fix rules` (a table): first-column words that `idem-fix explain` accepts."""
    listing = probe([*idem_fix, "rules"]).stdout
    candidates = []
    for line in listing.splitlines():
        match = re.match(r"^\s?([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\s{2,}", line)
        if match and match.group(1) != "rule":
            candidates.append(match.group(1))
    return [name for name in dict.fromkeys(candidates) if probe([*idem_fix, "explain", name]).returncode == 0]


def find_ruff() -> Optional[List[str]]:
    sibling = Path(sys.executable).with_name("ruff")
    if sibling.exists():
        return [str(sibling)]
    if shutil.which("ruff"):
        return [shutil.which("ruff")]
    if importlib.util.find_spec("ruff"):
        return [sys.executable, "-m", "ruff"]
    return None


# --- the machine and the tree ---


def machine() -> dict:
    meminfo = _read("/proc/meminfo") or ""
    mem = dict(re.findall(r"^(\w+):\s+(\d+) kB", meminfo, re.M))
    cpu = re.search(r"^model name\s*:\s*(.+)$", _read("/proc/cpuinfo") or "", re.M)
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu.group(1).strip() if cpu else platform.processor(),
        "memory_gb": round(int(mem.get("MemTotal", 0)) / 1024**2, 1),
        "memory_available_gb": round(int(mem.get("MemAvailable", 0)) / 1024**2, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def count_tree(tree: Path) -> dict:
    """Files and lines of the .py files a run would see (hidden folders left out, as idem-fix does)."""
    files = lines = 0
    for root, dirs, names in os.walk(tree):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.endswith(".py"):
                files += 1
                with open(os.path.join(root, name), "rb") as handle:
                    lines += handle.read().count(b"\n")
    return {"files": files, "lines": lines}


def make_tree(out: Path, files: int, lines_per_file: int, seed: int, task_files: Optional[int] = None) -> dict:
    start = time.perf_counter()
    counts = generate.generate(out, files=files, seed=seed, lines_per_file=lines_per_file, task_files=task_files)
    log(f"generated {out}: {counts['files']} files, {counts['lines']} lines, {counts['task_files']} task modules "
        f"in {time.perf_counter() - start:.1f} s")
    return {**counts, "path": str(out)}


# --- the measurements ---


def bench_audit(idem_fix: List[str], tree: Path, lines: int, runs: int, skipped: Dict[str, str]) -> List[Measurement]:
    support = audit_support(idem_fix)
    if not support["audit"]:
        skipped["audit cold"] = skipped["audit warm"] = "`idem-fix audit` does not exist in this build"
        return []
    base = [*idem_fix, "audit", str(tree)]
    base += ["--format", "json"] if support["--format"] else []
    base += ["--output", os.devnull] if support["--output"] else []
    results = []
    if support["--no-cache"]:
        results.append(measure("audit cold", base + ["--no-cache"], tree.parent, lines, runs))
    else:
        skipped["audit cold"] = "`idem-fix audit` has no --no-cache option"
    results.append(measure("audit warm", base, tree.parent, lines, runs, warmup=1))
    edited = next(iter(sorted(tree.rglob("tasks.py"))), None)
    if edited is not None:

        def edit(i: int) -> None:  # a new comment each time: a content the caches have not seen
            with open(edited, "a", encoding="utf-8") as stream:
                stream.write(f"# benchmark edit {i}\n")

        results.append(measure("audit warm, 1 file edited", base, tree.parent, lines, runs, before_each=edit))
    return results


def apply_command(idem_fix: List[str], rules: List[str], tree: Path) -> List[str]:
    return [*idem_fix, "apply", *[arg for rule in rules for arg in ("--rule", rule)], "--dry-run", str(tree)]


def bench_apply(idem_fix: List[str], rules: List[str], tree: Path, lines: int, runs: int, name: str) -> Measurement:
    result = measure(name, apply_command(idem_fix, rules, tree), tree.parent, lines, runs)
    last = result.runs[-1]
    summary = [line for line in last.stderr.splitlines() if line.startswith("Would rewrite")]
    result.extra["files_changed"] = sum(1 for line in last.stdout.splitlines() if line.startswith(b"+++ "))
    result.extra["summary"] = summary[-1] if summary else ""
    return result


def bench_ruff(ruff: List[str], tree: Path, lines: int, runs: int) -> Measurement:
    """`ruff check` with pyflakes + pycodestyle errors, no cache, no config files, compact output."""
    command = [*ruff, "check", "--no-cache", "--isolated", "--select", "E,F", "--exit-zero",
               "--output-format", "concise", "--output-file", os.devnull, str(tree)]
    result = measure("ruff check E,F", command, tree.parent, lines, runs)
    result.extra["version"] = probe([*ruff, "--version"]).stdout.strip()
    return result


# --- reporting ---


def _target(name: str, m: Measurement, ruff: Optional[Measurement]) -> str:
    if m.error:
        return f"FAILED: {m.error}"
    notes = []
    if name == "audit cold":
        notes.append(_verdict(m.median_s, TARGETS["audit_cold_s"], "s"))
        if ruff:
            notes.append(_verdict(m.median_s / ruff.median_s, TARGETS["audit_cold_vs_ruff"], "x ruff"))
    if name == "audit warm":
        notes.append(_verdict(m.median_s, TARGETS["audit_warm_s"], "s"))
    if not name.startswith("ruff"):
        notes.append(_verdict(m.peak_mb, TARGETS["peak_mb"], "MB"))
    return "; ".join(notes)


def _verdict(value: float, limit: float, unit: str) -> str:
    return f"<= {limit:g} {unit}: {'ok' if value <= limit else 'MISSED'}"


def _human(rate: float) -> str:
    return f"{rate / 1e6:.2f}M" if rate >= 1e6 else f"{rate / 1e3:.1f}k"


def print_report(report: dict, results: List[Measurement], skipped: Dict[str, str]) -> None:
    m = report["machine"]
    print(f"\nmachine: {m['cores']} cores ({m['usable_cores']} usable), {m['cpu']}, {m['memory_gb']} GB RAM, "
          f"Python {m['python']}, {m['platform']}")
    t = report["tree"]
    print(f"tree: {t['path']}: {t['files']} files, {t['lines']} lines")
    print(f"memory: {MEMORY_METHOD}\n")
    ruff = next((r for r in results if r.name.startswith("ruff")), None)
    header = f"{'measurement':<28} {'median':>9} {'cpu':>8} {'lines/s':>9} {'max RSS':>8} {'tree PSS':>9} {'runs':>4}  targets"
    print(header)
    print("-" * len(header))
    for r in results:
        cpu = statistics.median(s.cpu_seconds for s in r.runs)
        print(f"{r.name:<28} {r.median_s:>8.2f}s {cpu:>7.2f}s {_human(r.lines_per_s):>9} "
              f"{max(s.max_rss_kb for s in r.runs) / 1024:>6.0f}MB {max(s.tree_pss_kb for s in r.runs) / 1024:>7.0f}MB "
              f"{len(r.runs):>4}  {_target(r.name, r, ruff)}")
    for name, why in skipped.items():
        print(f"{name:<28} skipped: {why}")
    for name, ratio in report["ratios"].items():
        print(f"ratio {name}: {ratio:.1f}x")
    scaling = report.get("scaling")
    if scaling:
        print("\napply --dry-run vs tree size (same number of task modules in both trees):")
        for row in scaling["rows"]:
            per_file = f"{row['ms_per_changed_file']:.0f} ms" if row["ms_per_changed_file"] is not None else "-"
            print(f"  {row['files']:>5} files {row['lines']:>8} lines: {row['files_changed']:>4} files changed, "
                  f"{row['median_s']:.2f} s, {per_file} per changed file")
        print(f"  -> {scaling['verdict']}")


def scaling_report(full: Measurement, small: Measurement, full_tree: dict, small_tree: dict) -> dict:
    """Two trees, same number of task modules: time should follow files changed, not lines."""
    rows = []
    for m, tree in ((small, small_tree), (full, full_tree)):
        changed = m.extra["files_changed"]
        per_file = round(1000 * m.median_s / changed, 1) if changed else None
        rows.append({"files": tree["files"], "lines": tree["lines"], "files_changed": changed,
                     "median_s": round(m.median_s, 4), "ms_per_changed_file": per_file})
    time_ratio = full.median_s / small.median_s
    size_ratio = full_tree["lines"] / small_tree["lines"]
    change_ratio = (full.extra["files_changed"] or 1) / (small.extra["files_changed"] or 1)
    closer = "files changed" if abs(time_ratio - change_ratio) < abs(time_ratio - size_ratio) else "repo size"
    verdict = (f"time x{time_ratio:.2f} for size x{size_ratio:.2f} and files changed x{change_ratio:.2f}: "
               f"follows {closer}")
    if full.error or small.error or not (full.extra["files_changed"] and small.extra["files_changed"]):
        verdict = "not meaningful: a run failed or changed nothing"
    return {"rows": rows, "time_ratio": time_ratio, "size_ratio": size_ratio, "changed_ratio": change_ratio,
            "verdict": verdict}


# --- main ---


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, help="benchmark this folder instead of generating one")
    parser.add_argument("--files", type=int, help=f"files to generate (default {generate.DEFAULT_FILES})")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the default file count")
    parser.add_argument("--lines-per-file", type=int, default=generate.DEFAULT_LINES_PER_FILE)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--runs", type=int, default=5, help="measured runs per command; the median is reported")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--out", type=Path, help="where to generate the trees (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated trees")
    parser.add_argument("--skip", action="append", default=[], choices=SECTIONS, help="leave a measurement out; repeatable")
    parser.add_argument("--rule", action="append", default=[], help="apply only this rule (repeatable; default: all)")
    parser.add_argument("--idem-fix", help="command to run (default: the idem-fix next to this python, then PATH)")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    idem_fix = find_idem_fix(args.idem_fix)
    workdir = Path(args.out or tempfile.mkdtemp(prefix="idem-fix-bench-")).absolute()
    files = args.files or max(1, round(generate.DEFAULT_FILES * args.scale))
    try:
        if args.tree:
            tree = args.tree.absolute()
            tree_info = {**count_tree(tree), "path": str(tree), "generated": False}
        else:
            tree = workdir / "tree"
            tree_info = {**make_tree(tree, files, args.lines_per_file, args.seed), "generated": True}
        report, results, skipped = run_all(args, idem_fix, tree, tree_info, workdir)
    except FileExistsError as error:  # --out names a folder the generator did not write
        sys.exit(f"error: {error}")
    finally:
        if not args.keep and not args.out:
            shutil.rmtree(workdir, ignore_errors=True)
    print_report(report, results, skipped)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


def run_all(args, idem_fix: List[str], tree: Path, tree_info: dict, workdir: Path):
    """Every measurement not skipped, in the order the report lists them."""
    skipped: Dict[str, str] = {}
    results: List[Measurement] = []
    lines = tree_info["lines"]
    compiled = byte_compile()
    if "audit" not in args.skip:
        results += bench_audit(idem_fix, tree, lines, args.runs, skipped)
    rules = args.rule or list_rules(idem_fix)
    full_apply = scaling = None
    if not rules:
        skipped["apply"] = "`idem-fix rules` listed no rule that `idem-fix explain` knows"
    elif "apply" not in args.skip or "scaling" not in args.skip:  # scaling reuses the full-size figure
        name = f"apply --dry-run ({len(rules)} rule{'s' * (len(rules) != 1)})"
        full_apply = bench_apply(idem_fix, rules, tree, lines, args.runs, name)
        results.append(full_apply)
    if full_apply and "scaling" not in args.skip:
        scaling = bench_scaling(args, idem_fix, rules, full_apply, tree_info, workdir, results, skipped)
    if "ruff" not in args.skip:
        ruff = find_ruff()
        if ruff:
            results.append(bench_ruff(ruff, tree, lines, args.runs))
        else:
            skipped["ruff"] = "ruff is not installed (pip install ruff)"
    report = {
        "machine": machine(),
        "tree": tree_info,
        "idem_fix": {"command": idem_fix, "rules": rules, "byte_compiled": compiled},
        "memory_method": MEMORY_METHOD,
        "targets": TARGETS,
        "measurements": {r.name: r.as_json() for r in results},
        "ratios": ratios(results),
        "scaling": scaling,
        "skipped": skipped,
    }
    return report, results, skipped


def bench_scaling(args, idem_fix, rules, full_apply, tree_info, workdir, results, skipped) -> Optional[dict]:
    """apply --dry-run on a tree a quarter the size but with as many task modules as the full one."""
    if not tree_info.get("generated"):
        skipped["apply scaling"] = "needs a generated tree (not --tree)"
        return None
    small_tree = make_tree(workdir / "tree-quarter", max(1, tree_info["files"] // 4), args.lines_per_file,
                           args.seed, task_files=tree_info["task_files"])
    small = bench_apply(idem_fix, rules, Path(small_tree["path"]), small_tree["lines"], args.runs,
                        "apply --dry-run, 1/4 tree")
    results.append(small)
    return scaling_report(full_apply, small, tree_info, small_tree)


def ratios(results: List[Measurement]) -> Dict[str, float]:
    by_name = {r.name: r for r in results}
    ruff = by_name.get("ruff check E,F")
    out = {}
    if ruff and "audit cold" in by_name:
        out["audit cold / ruff"] = by_name["audit cold"].median_s / ruff.median_s
    apply = next((r for r in results if r.name.startswith("apply --dry-run (")), None)
    if ruff and apply:
        out["apply --dry-run / ruff (for information; apply does more)"] = apply.median_s / ruff.median_s
    return out


if __name__ == "__main__":
    sys.exit(main())
