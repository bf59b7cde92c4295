"""Whether the cache every worker reads is one cache: claims and locks kept in a per-process cache
(Django's default LocMemCache) hold only inside the process that took them, so a redelivery that lands
on another worker is not stopped. Read from the projects' settings (`Project.cache_backends`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .project import Project

SHARED = re.compile(r"redis|memcached|pylibmc|pymemcache|\.db\.databasecache$", re.IGNORECASE)
PER_PROCESS = re.compile(r"locmem|dummy|filebased", re.IGNORECASE)  # filebased: shared on one machine only
LOCAL_SETTINGS = re.compile(r"(^|[._])(dev|development|local|debug|ci)($|[._])")


def _shared(project: Project, backend: str) -> bool:
    """A backend every worker reaches: Redis, Memcached, the database, or a project class built on one
    (`settings.cache.DatabaseCacheExtended(DatabaseCache)`)."""
    if SHARED.search(backend) and not PER_PROCESS.search(backend):
        return True
    module, _, name = backend.rpartition(".")
    summary = project.module(module) if module and project.has_module(module) else None
    cls = summary.classes.get(name) if summary is not None else None
    return cls is not None and any(
        re.search(r"(DatabaseCache|RedisCache|MemcachedCache|PyMemcacheCache|PyLibMCCache)$", base) for base in cls.bases
    )


def shared_cache(project: Project) -> tuple[str, str]:
    """(the shared backend, "") when every worker sees the same cache, else ("", why not). Settings for
    development or local runs may use a per-process cache when another settings module shares one."""
    found = project.cache_backends()
    if not found:
        return "", ("no settings module the workers run with sets CACHES (test settings are not counted), so Django's "
                    "default LocMemCache keeps a separate claim in each worker process")
    shared = [f for f in found if _shared(project, f[0])]
    others = [f for f in found if f not in shared and not LOCAL_SETTINGS.search(f[2])]
    if shared and not others:
        return shared[0][0], ""
    backend, where, module = (others or found)[0]
    if not backend:
        return "", f"the default cache's BACKEND ({where}) is computed, so whether workers share it cannot be read"
    beside = next((f for f in shared if f[2] == module), None)
    if beside is not None:
        return "", (
            f"the default cache depends on the environment: {beside[0]} ({beside[1]}) or {backend} ({where}); "
            f"workers do not share the second, so the claim holds only where the first is configured"
        )
    return "", f"the default cache is {backend} ({where}), which workers do not share"
