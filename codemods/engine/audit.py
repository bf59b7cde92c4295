"""`idem-fix audit`: the report for some paths, with every rule (see `assess`), or the last report
again when nothing it depends on has changed (see `report_cache`). This module and the report's data
load without the analysis: a warm audit only lists and stats files."""

from __future__ import annotations

from typing import Callable

from .cache_dir import cache_dir_for
from .config import Config
from .files import find_files
from .report import Report
from .report_cache import ReportCache, report_key


def audit(
    paths: list, config: Config, version: str, use_cache: bool = True, jobs: int = 1, on_progress=None,
    render: Callable[[Report], str] | None = None,
) -> tuple[Report, list]:
    """The report for `paths` with every rule, and the problems (`ParseError`s) met in the files the
    user named. With `render`, `report.renderings[render.__name__]` holds its text, cached too."""
    files = find_files(paths, config)
    cache = ReportCache(cache_dir_for(files.roots)) if use_cache else None
    key = report_key(files.all, files.targets, f"{version}\0{config!r}") if cache else None
    cached = cache.load(key) if cache else None
    if cached is not None:
        if _rendered(cached[0], render):
            cache.save(key, cached)
        return cached
    from .assess import fresh_report  # the analysis

    result = fresh_report(paths, files, config, version, use_cache, jobs, on_progress)
    _rendered(result[0], render)
    if cache:
        cache.save(key, result)
    return result


def _rendered(report: Report, render: Callable[[Report], str] | None) -> bool:
    """Whether a new text was rendered (a cached report then needs saving again)."""
    if render is None or render.__name__ in report.renderings:
        return False
    report.renderings[render.__name__] = render(report)
    return True
