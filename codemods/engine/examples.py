"""A rule's examples, kept beside it in `codemods/<rule>/examples.py` and run as tests
(`tests/test_rule_examples.py`): small projects, each with the one finding the rule must make there,
its applicability, words its reason must say, and the files `apply` must leave (Fixit's VALID and
INVALID examples, for whole projects)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    name: str  # the situation, as a test name: `guard_on_call_input_refused`
    files: dict[str, str]  # path -> source (dedented when written)
    applicability: str | None  # of the one finding: "safe" | "unsafe" | "manual" | None (left alone, already safe)
    reason: str = ""  # words the finding's reason must contain
    fixed: dict[str, str] = field(default_factory=dict)  # path -> source after `apply` (with --unsafe-fixes when unsafe)
    args: tuple[str, ...] = ()  # more options for `apply`
