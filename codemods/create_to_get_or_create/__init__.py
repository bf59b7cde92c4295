"""`Model.objects.create(...)` reachable from a task -> `get_or_create(<identity>, defaults={...})`."""

from __future__ import annotations

from pathlib import Path

from ..engine.levels import Applicability
from ..engine.rules import Rule
from . import detect, rewrite


class CreateToGetOrCreate(Rule):
    detect = staticmethod(detect.detect)
    transform = staticmethod(rewrite.transform)


rule = CreateToGetOrCreate(
    name=detect.NAME,
    summary="Model.objects.create() in task code -> get_or_create() keyed on a unique constraint the model declares",
    applicabilities=(Applicability.SAFE, Applicability.UNSAFE, Applicability.MANUAL),
    readme=Path(__file__).with_name("README.md"),
)
