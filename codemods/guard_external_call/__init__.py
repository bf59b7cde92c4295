"""An external call whose result is saved on `obj.attr` -> `if obj.attr: return` before the function's side effects."""

from __future__ import annotations

from pathlib import Path

from ..engine.levels import Applicability
from ..engine.rules import Rule
from . import detect, rewrite


class GuardExternalCall(Rule):
    detect = staticmethod(detect.detect)
    transform = staticmethod(rewrite.transform)


rule = GuardExternalCall(
    name=detect.NAME,
    summary="External API call whose result is saved on obj.attr -> `if obj.attr: return` before the call, when only that call fills it",
    applicabilities=(Applicability.SAFE, Applicability.UNSAFE, Applicability.MANUAL),
    readme=Path(__file__).with_name("README.md"),
)
