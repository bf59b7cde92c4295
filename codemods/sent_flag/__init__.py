"""A task that sends a message (email, SMS, push, chat) -> a claim before its first side effect, keyed on
the message's own task id (or, with --flag-store field, a flag on the object the message is about)."""

from __future__ import annotations

from pathlib import Path

from ..engine.levels import Applicability
from ..engine.rules import Rule
from . import detect, rewrite


class SentFlag(Rule):
    detect = staticmethod(detect.detect)
    transform = staticmethod(rewrite.transform)


rule = SentFlag(
    name=detect.NAME,
    summary="Tasks that send an email, SMS, push or chat message -> a claim on the message's own task id before the first side effect",
    applicabilities=(Applicability.SAFE, Applicability.UNSAFE, Applicability.MANUAL),
    readme=Path(__file__).with_name("README.md"),
    all_or_nothing=True,  # a field-store claim in tasks.py names the field added to models.py
)
