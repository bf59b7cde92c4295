"""Where the cache lives: `.idem-fix-cache/` in the folder a run reads. Its own small module because a
warm audit that reuses the last report needs it and nothing of the analysis."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_NAME = ".idem-fix-cache"


def cache_dir_for(roots: list[Path]) -> Path:
    """`.idem-fix-cache` in the folder the run reads (IDEM_FIX_CACHE_DIR overrides it)."""
    override = os.environ.get("IDEM_FIX_CACHE_DIR")
    if override:
        return Path(override)
    return Path(os.path.commonpath([str(r) for r in roots])) / CACHE_DIR_NAME


def prepare_cache_dir(directory: Path) -> None:
    """The cache folder, with a .gitignore that keeps it out of git."""
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / ".gitignore"
    if not marker.exists():
        marker.write_text("# Created by idem-fix: a cache, safe to delete.\n*\n")
