"""The audit's risk levels held against a blind hand audit of the same project's tasks.

`docs/hand-labels/<project>.toml` holds a level and a reason per task, written by reading the project's
source without running idem-fix (levels as the audit defines them: critical, high, moderate, low). This
script runs the audit on the project's tree and prints, as markdown, how often the levels agree, whether
every task labelled critical or high by hand is high or critical in the audit, and each disagreement.
Run by hand on fetched trees, never in CI:

    python scripts/hand_labels.py /work/realcode/pretalx /work/realcode/wger
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

LABELS = Path(__file__).resolve().parent.parent / "docs" / "hand-labels"
SERIOUS = {"critical", "high"}


def audit_levels(tree: Path) -> dict[str, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "idem_fix", "audit", "--no-cache", "--format", "json", str(tree)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"audit of {tree} failed: {done.stderr.strip()[:500]}")
    return {task["name"]: task for task in json.loads(done.stdout)["tasks"]}


def compare(tree: Path) -> list[str]:
    labels = tomllib.loads((LABELS / f"{tree.name}.toml").read_text(encoding="utf-8"))["task"]
    audited = audit_levels(tree)
    by_place = {(Path(t["path"]).as_posix().split(f"{tree.name}/", 1)[-1], t["line"]): t for t in audited.values()}
    rows, agree, serious_ok, serious = [], 0, 0, 0
    unmatched = []
    for label in labels:
        task = audited.get(label["name"]) or by_place.get((label["path"], label["line"]))
        if task is None:
            unmatched.append(label["name"])
            continue
        same = task["risk"] == label["level"]
        agree += same
        if label["level"] in SERIOUS:
            serious += 1
            serious_ok += task["risk"] in SERIOUS
        if not same:
            rows.append(f"| `{label['name']}` | {label['level']} | {task['risk']} | {label['why']} |")
    matched = len(labels) - len(unmatched)
    out = [
        f"### {tree.name}",
        "",
        f"{matched} tasks labelled by hand and found by the audit; levels agree on {agree} "
        f"({100 * agree / max(matched, 1):.0f}%); tasks critical or high by hand that the audit rates high or "
        f"critical: {serious_ok} of {serious}.",
    ]
    if unmatched:
        out.append(f"Labelled by hand but not in the audit: {', '.join(f'`{n}`' for n in unmatched)}.")
    if rows:
        out += ["", "| task | by hand | audit | the hand audit's reason |", "|---|---|---|---|", *rows]
    return out + [""]


def main() -> None:
    for tree in map(Path, sys.argv[1:]):
        print("\n".join(compare(tree.resolve())))


if __name__ == "__main__":
    main()
