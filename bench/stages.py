"""Where an audit's time goes: index the tree once, then time each rule's `detect` and the report.

    python bench/stages.py TREE                     # seconds per stage
    python bench/stages.py TREE --profile sent-flag # cProfile one stage (a rule name, index or report)

Unlike `run.py` this runs in one process (no pool, `--jobs 1`), without the cache, so the stages add
up to a cold audit's work; it is for finding hot spots, `run.py` is for the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import time
from pathlib import Path

from idem_fix.codemods.engine.assess import build_report
from idem_fix.codemods.engine.config import Config
from idem_fix.codemods.engine.rules import Options, all_rules
from idem_fix.codemods.engine.runner import index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", type=Path)
    parser.add_argument("--profile", metavar="STAGE", help="cProfile this stage: index, report or a rule name")
    parser.add_argument("--top", type=int, default=40, help="rows of the profile to print")
    parser.add_argument("--sort", default="cumulative", help="profile order: cumulative (default) or tottime")
    args = parser.parse_args()
    gc.disable()  # as the command line does
    rules = all_rules()
    profiler = cProfile.Profile()

    def stage(name, work):
        if args.profile == name:
            profiler.enable()
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
        if args.profile == name:
            profiler.disable()
        print(f"{name:<28} {seconds:7.2f} s")
        return result

    project, _ = stage("index", lambda: index([args.tree], Options(), Config.find(args.tree), use_cache=False))
    for name, rule in rules.items():
        findings = stage(name, lambda rule=rule: rule.detect(project, Options()))
        print(f"{'':<28} {len(findings)} findings")
    stage("report", lambda: build_report(project, list(rules.values()), Options(), "profile", len(project.targets)))
    print(f"modules summarized: {len(project.modules)} of {len(project._files)} files; tasks: {len(project.tasks)}")
    if args.profile:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
