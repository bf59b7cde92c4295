"""Two or more writes in task code, one a create, not in a transaction -> `with transaction.atomic():`."""

from __future__ import annotations

from pathlib import Path

from ..engine.levels import Applicability
from ..engine.rules import Rule
from . import detect, rewrite


class AtomicMultiCreate(Rule):
    detect = staticmethod(detect.detect)
    transform = staticmethod(rewrite.transform)


rule = AtomicMultiCreate(
    name=detect.NAME,
    summary="Writes in task code that commit one by one -> one transaction, proven safe when the block carries its own guard",
    applicabilities=(Applicability.SAFE, Applicability.UNSAFE, Applicability.MANUAL),
    readme=Path(__file__).with_name("README.md"),
)
