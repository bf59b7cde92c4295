"""Work spread over processes (`--jobs`) when there is enough of it: parsing, summarizing, rewriting,
and the rules' look-ups over a finished index."""

from __future__ import annotations

from typing import Callable, Hashable, Iterator


def parallel_map(work: Callable, items: list, jobs: int, threshold: int) -> Iterator:
    """`map(work, items)`, in order, over `jobs` forked processes when there are at least `threshold`
    items (below that, starting the pool costs more than it saves). `work` must be a module-level
    function and items and results picklable."""
    if jobs <= 1 or len(items) < threshold:
        yield from map(work, items)
        return
    with _fork_pool(jobs) as pool:
        yield from pool.map(work, items, chunksize=max(1, len(items) // (jobs * 8)))


def _fork_pool(jobs: int):
    import multiprocessing  # a run that reuses the last report never starts a pool
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context)


_forked: tuple[list[Callable], Callable[[], Hashable]] | None = None  # what workers inherit


def as_if_serial(units: list[Callable[[], object]], jobs: int, state: Callable[[], Hashable]) -> list:
    """`[unit() for unit in units]`, with the units run in forked copies of this process. They share
    lazily grown state (modules an index loads on demand), so a unit may see what an earlier one
    loaded, and caches may keep what was found before a load: when any unit changed `state()`, or the
    pool failed, the loop runs again here, from the state the workers started from. The results are
    then those of the serial loop. Results must be picklable; without fork (or with one job) the loop
    simply runs here."""
    global _forked
    import multiprocessing

    if jobs <= 1 or len(units) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [unit() for unit in units]  # spawned workers would not inherit the index
    _forked = (units, state)
    results: list = []
    try:
        with _fork_pool(min(jobs, len(units))) as pool:
            for result, unchanged in pool.map(_run_unit, range(len(units))):
                if not unchanged:
                    pool.shutdown(cancel_futures=True)
                    break
                results.append(result)
    except Exception:  # noqa: BLE001 - a killed worker, a result that does not pickle, a unit's own error:
        results = []  # the loop below runs them here, where a real error is raised as the loop would raise it
    finally:
        _forked = None
    return results if len(results) == len(units) else [unit() for unit in units]


def _run_unit(number: int):
    """(result, whether the unit left the state as it found it). The results are used only when no
    unit changed it, so each of them ran on the state the workers were forked with."""
    units, state = _forked
    before = state()
    result = units[number]()
    return result, state() == before
