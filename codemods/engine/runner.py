"""One run of the engine, shared by every command: find files, index the project, detect, rewrite."""

from __future__ import annotations

import collections
import gc
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .cache_dir import cache_dir_for
from .files import Files, find_files
from .loader import Cache
from .project import ParseError, Project
from .pool import parallel_map
from .rules import Finding, Options, Rule, detect_each
from .writes import FileChange


@dataclass
class Run:
    project: Project
    findings: list[Finding]
    changes: list[FileChange] = field(default_factory=list)
    again: object = None  # re-index the same paths over new contents: (overlay) -> Project
    options: Options = field(default_factory=Options)

    @property
    def errors(self) -> list[ParseError]:
        return errors_in_targets(self.project)


def errors_in_targets(project: Project) -> list[ParseError]:
    """Files that could not be read or parsed, among those the user named (not the context around them)."""
    targets = getattr(project, "targets", None)
    return [e for e in project.errors if targets is None or e.absolute in targets]


def index(
    paths: list[Path], options: Options, config: Config, use_cache: bool = True, jobs: int = 1, on_progress=None,
    overlay: dict | None = None, files: Files | None = None, cache: Cache | None = None,
):
    """The project around `paths` (see `context_root`), and the files inside `paths` themselves."""
    files = files or find_files(paths)
    project = Project(
        files.all,
        config,
        load_everything=options.scope == "all",
        cache_dir=cache_dir_for(files.roots) if use_cache else None,
        jobs=jobs,
        on_progress=on_progress,
        overlay=overlay or {},
        cache=cache,
    )
    project.targets = files.targets
    return project, files.targets


def analyse(
    paths: list[Path], rules: list[Rule], options: Options, config: Config, use_cache: bool = True, jobs: int = 1
) -> Run:
    """Run the rules over the project around `paths`; keep the findings inside `paths`."""
    files = find_files(paths)
    project, _ = index(paths, options, config, use_cache, jobs, files=files)
    findings = [f for found in detect_each(rules, project, options) for f in found if _in_targets(f, project)]
    project.loader.cache.save()  # with what the rules made the index load
    findings.sort(key=lambda f: (f.path, f.line, f.rule))
    return Run(
        project,
        findings,
        # Later rules see earlier rules' output: the same files re-indexed, unchanged ones from memory.
        again=lambda overlay: index(
            paths, options, config, use_cache, jobs, overlay=overlay, files=files, cache=project.loader.cache
        )[0],
        options=options,
    )


def _detect(rule: Rule, project: Project, options: Options) -> list[Finding]:
    return [f for f in rule.detect(project, options) if _in_targets(f, project)]


def _in_targets(finding: Finding, project: Project) -> bool:
    return project.source_of(finding.module).path in project.targets


_REWRITE_POOL_THRESHOLD = 8  # files: each costs a libcst parse and metadata pass (~0.1-0.3 s)


def _rewrite_job(job) -> FileChange:
    """One file's rewrite (in a worker process when there are many)."""
    from .edits import rewrite_file  # libcst: only for runs that rewrite

    path, rule, plans, current = job
    try:
        return rewrite_file(path, [(rule, plans)], current)
    except OSError as error:
        return FileChange(path, b"", b"", error=f"cannot read: {error.strerror or error}")


def rewrite(run: Run, rules: list[Rule]) -> list[FileChange]:
    """New contents for every file with fixable findings. Rules run one after the other, each on the
    previous one's output (re-indexed, so its positions are right); with one rule that is one pass."""
    overlay: dict[Path, bytes] = {}
    changes: dict[Path, FileChange] = {}
    findings = list(run.findings)
    project = run.project
    for number, rule in enumerate(rules):
        if number and overlay:
            if project is not run.project:  # the previous rule's index: a rule's caches can keep it in
                project = None  # reference cycles, and the command line runs without the cyclic collector
                gc.collect()
            project = run.again(overlay)
            findings = [f for f in findings if f.rule != rule.name] + _detect(rule, project, run.options)
        by_module: dict[str, list] = collections.defaultdict(list)
        for finding in findings:
            if finding.rule == rule.name and finding.plan is not None:
                by_module[finding.module].append(finding.plan)
        paths = {module: project.source_of(module).path for module in by_module}
        work = [(paths[m], rule, by_module[m], overlay.get(paths[m])) for m in sorted(by_module, key=lambda m: str(paths[m]))]
        results = list(parallel_map(_rewrite_job, work, project.jobs, _REWRITE_POOL_THRESHOLD))
        broken = [c for c in results if c.error]
        for change in results:
            total = changes.setdefault(change.path, FileChange(change.path, change.old, change.old))
            if change.error:
                total.error = total.error or change.error
            elif broken and rule.all_or_nothing:
                total.error = total.error or (
                    f"{rule.name} left this file unchanged because {broken[0].path.name} could not be rewritten"
                )
            else:
                total.new = change.new
                total.applied.update(change.applied)
                if change.new != change.old:
                    overlay[change.path] = change.new
    findings.sort(key=lambda f: (f.path, f.line, f.rule))
    run.findings = findings
    run.changes = [changes[p] for p in sorted(changes)]
    return run.changes
