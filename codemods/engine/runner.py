"""One run of the engine, shared by every command: find files, index the project, detect, rewrite."""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .edits import FileChange, rewrite_file
from .files import context_root, discover
from .loader import CACHE_DIR_NAME
from .project import ParseError, Project
from .rules import Finding, Options, Rule


@dataclass
class Run:
    project: Project
    findings: list[Finding]
    changes: list[FileChange] = field(default_factory=list)

    @property
    def errors(self) -> list[ParseError]:
        return errors_in_targets(self.project)


def errors_in_targets(project: Project) -> list[ParseError]:
    """Files that could not be read or parsed, among those the user named (not the context around them)."""
    targets = getattr(project, "targets", None)
    return [e for e in project.errors if targets is None or e.absolute in targets]


def cache_dir_for(roots: list[Path]) -> Path:
    """`.idem-fix-cache` in the folder the run reads (IDEM_FIX_CACHE_DIR overrides it)."""
    override = os.environ.get("IDEM_FIX_CACHE_DIR")
    if override:
        return Path(override)
    return Path(os.path.commonpath([str(r) for r in roots])) / CACHE_DIR_NAME


def index(paths: list[Path], options: Options, config: Config, use_cache: bool = True, jobs: int = 1, on_progress=None):
    """The project around `paths` (see `context_root`), and the files inside `paths` themselves."""
    targets = {f.path for f in discover(paths)}
    roots = sorted({context_root(p) for p in paths})
    files = sorted({f.path: f for f in [*discover(paths), *discover(roots)]}.values(), key=lambda f: f.path)
    project = Project(
        files,
        config,
        load_everything=options.scope == "all",
        cache_dir=cache_dir_for(roots) if use_cache else None,
        jobs=jobs,
        on_progress=on_progress,
    )
    project.targets = targets
    return project, targets


def analyse(
    paths: list[Path], rules: list[Rule], options: Options, config: Config, use_cache: bool = True, jobs: int = 1
) -> Run:
    """Run the rules over the project around `paths`; keep the findings inside `paths`."""
    project, targets = index(paths, options, config, use_cache, jobs)
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(f for f in rule.detect(project, options) if project.source_of(f.module).path in targets)
    findings.sort(key=lambda f: (f.path, f.line, f.rule))
    return Run(project, findings)


def rewrite(run: Run, rules: list[Rule]) -> list[FileChange]:
    """New contents for every file with fixable findings, rules applied in the order given."""
    by_module: dict[str, dict[str, list]] = collections.defaultdict(lambda: collections.defaultdict(list))
    for finding in run.findings:
        if finding.plan is not None:
            by_module[finding.module][finding.rule].append(finding.plan)
    changes = []
    for module, plans in sorted(by_module.items(), key=lambda item: str(run.project.source_of(item[0]).path)):
        path = run.project.source_of(module).path
        work = [(rule, plans[rule.name]) for rule in rules if plans.get(rule.name)]
        try:
            changes.append(rewrite_file(path, work))
        except OSError as error:
            changes.append(FileChange(path, b"", b"", error=f"cannot read: {error.strerror or error}"))
    run.changes = changes
    return changes
