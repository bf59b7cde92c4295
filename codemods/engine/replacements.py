"""What a delete and the writes around it make of a repeat: rows deleted just before an upsert are made again
to the same end; a related row deleted and then replaced leaves the first run's replacement to the next
delete; rows selected by a query and written again after the delete are deleted and written again."""

from __future__ import annotations

import re

from . import facts
from .project import FunctionKey, Project
from .source import one_line

_KEEPS_OTHERS = re.compile(r"\.exclude\(|\b(pk|id)(__in)?\s*=")
RAW_SQL = "raw SQL"


def deleted_first(function: facts.Function, upsert: facts.Effect) -> facts.Effect | None:
    """A delete of the same model's rows earlier in the function (`Alias.objects.filter(t=t).delete()` before
    `Alias.objects.update_or_create(...)`): the upsert then finds none of a first run's rows. Not a delete of
    the rows left out (`.exclude(...)`) or of some rows by their own key, which keeps the ones upserted next."""
    model = upsert.receiver.removesuffix(".objects")
    return next((e for e in function.effects if e.kind == "db_delete" and e.line < upsert.line
                 and e.receiver.startswith(f"{model}.objects") and not _KEEPS_OTHERS.search(e.receiver)), None) if model != upsert.receiver else None


def replaced_after(project: Project, key: FunctionKey, delete: facts.Effect) -> int:
    """The line where the function puts something new where it deleted (`job.data_model.delete()`, then
    `job.data_model = merged`), read off its text; 0 when it does not."""
    if "." not in delete.receiver or not delete.receiver.replace(".", "").replace("_", "").isalnum():
        return 0
    function = project.function(key)
    text = project.function_text(key)
    found = re.search(rf"^\s*{re.escape(delete.receiver)}\s*=[^=]", text, re.M)
    if found is None or function is None:
        return 0
    line = function.first_line + text.count("\n", 0, found.start())
    return line if line > delete.line else 0


def stores_a_replacement(project: Project, key: FunctionKey, function: facts.Function, save: facts.Effect) -> str:
    """How a save stores a related row that replaces one the function deleted (`job.data_model.delete()`,
    `job.data_model = merged`, `job.save()`): "" when it does not. Each run deletes what is there and stores a
    replacement of its own, so this is no update to the same result."""
    for delete in function.effects:
        if delete.kind != "db_delete" or not delete.receiver.startswith(f"{save.receiver}.") or delete.line >= save.line:
            continue
        replaced = replaced_after(project, key, delete)
        if replaced and replaced < save.line:
            return f"{delete.receiver} set at line {replaced}, after the one there was deleted (line {delete.line})"
    return ""


def written_again_after(project: Project, key: FunctionKey, function: facts.Function, delete: facts.Effect) -> str:
    """What the function writes after a delete of the rows a query selects, that may be those rows again: a
    make of the same model, or a project function it calls that runs raw SQL (`_save_to_tiles(cursor, ...)`
    after `Resource.objects.filter(pk__in=staged).delete()`). "" when nothing is written after it."""
    if ".exclude(" in delete.receiver:
        return ""  # deletes the rows left out: not the ones written next
    by_own_key = bool(_KEEPS_OTHERS.search(delete.receiver))  # rows the ORM makes next get keys of their own
    model = delete.receiver.split(".objects", 1)[0] if ".objects" in delete.receiver else ""
    for effect in function.effects:
        if not by_own_key and effect.line > delete.line and effect.kind in {"db_create", "db_upsert"} and model and effect.receiver.startswith(f"{model}.objects"):
            return f"`{one_line(effect.call, 50)}()` (line {effect.line}) makes {model.rsplit('.', 1)[-1]} rows again"
    view = project.view(key)
    if view is None:
        return ""
    later = sorted((c for c in view.calls() if c.lineno > delete.end_line), key=lambda c: (c.lineno, c.col_offset))
    raw = [f"`{one_line(view.segment(call), 50)}` (line {call.lineno})" for call in later if any(
        callee is not None and any(RAW_SQL in why for _, _, why in callee.unfollowed)
        for callee in map(project.function, project.graph.targets(view, call)))]
    if not raw:
        return ""
    return f"{' and '.join(raw[:2])} {'run' if len(raw) > 1 else 'runs'} raw SQL, not read here"
