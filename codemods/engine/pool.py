"""Work spread over processes (`--jobs`) when there is enough of it: parsing, summarizing, rewriting."""

from __future__ import annotations

from typing import Callable, Iterator


def parallel_map(work: Callable, items: list, jobs: int, threshold: int) -> Iterator:
    """`map(work, items)`, in order, over `jobs` forked processes when there are at least `threshold`
    items (below that, starting the pool costs more than it saves). `work` must be a module-level
    function and items and results picklable."""
    if jobs <= 1 or len(items) < threshold:
        yield from map(work, items)
        return
    import multiprocessing  # a run that reuses the last report never starts a pool
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        yield from pool.map(work, items, chunksize=max(1, len(items) // (jobs * 8)))
