"""The checks a function's own code makes before a call that a first run settles: a sent marker, a stored
value checked and set (claimed before the call, recorded after it), a pending mark taken away or cleared and
read again, rows marked as sent first. Read on the call's own way: what another branch, or the code after a
return, writes does not count. `engine/guards.py` asks these for the audit, sent-flag asks `checked_before`."""

from __future__ import annotations

import ast

from .names import dotted, words
from .source import one_line
from .view import EXITS, FunctionView

# Words that make a condition a "was it sent already?" check: `if host.welcome_email_sent`, `sent_at`.
FLAG_WORDS = frozenset({"sent", "notified", "emailed", "mailed", "texted", "messaged", "welcomed", "reminded", "invited", "alerted"})
# Models and managers an existence check reads when it is an audit of sent messages.
AUDIT_WORDS = frozenset(
    {"log", "logs", "audit", "audits", "sent", "delivery", "deliveries", "notification", "notifications", "message",
     "messages", "email", "emails", "outbox", "history", "receipt", "receipts"}
)
CACHE_CHECKS = frozenset({"add", "get", "has_key", "get_or_set", "incr"})
STATUS_WORDS = frozenset({"status", "state"})
COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match, ast.FunctionDef, ast.ClassDef)
TAKES_A_MARK = frozenset({"delete", "pop", "getdel"})  # in a condition: true for the one caller that removed it
READS_A_MARK = frozenset({"get", "exists", "is_set"})
CLEARS_A_MARK = frozenset({"clear", "delete", "reset", "unset"})


def checked_before(view: FunctionView, calls: list[ast.Call], planned: frozenset[str] | set[str] = frozenset(), sends: bool = True) -> str:
    """Why the function skips `calls` on a repeat: a condition around them, or an early exit before them, that
    reads a sent marker (for sends) or a stored value the function also writes ("" when none does)."""
    reasons = [check(view, [call], planned, sends)[0] for call in calls]
    return "; ".join(dict.fromkeys(reasons)) if reasons and all(reasons) else ""


def check(view: FunctionView, calls: list[ast.Call], planned, sends: bool) -> tuple[str, ast.AST | None]:
    """checked_before() of calls one check covers, and the object whose stored value it reads (None for a
    marker): the guard holds only if a redelivery meets the same object."""
    if not calls:
        return "", None
    first = min((c.lineno, c.col_offset) for c in calls)
    created = _created_names(view) if sends else set()
    for node in view.nodes:
        if not isinstance(node, (ast.If, ast.While)):
            continue
        encloses = all(node in view.ancestors(c) and _in_body(view, c, node) for c in calls)
        after = _statements_after_exit(view, node, calls) if not encloses and (node.lineno, node.col_offset) < first else None
        if not (encloses or after):
            continue
        if sends and _flaggy(view, node.test, planned, created):
            return f"it already checks `{one_line(view.segment(node.test), 90)}` (line {node.lineno}) before sending", None
        claimed = _claimed_in_test(view, node, encloses)
        if claimed:
            return claimed, None
        after_test = (node.test.end_lineno or node.lineno, node.test.end_col_offset or 0)
        own = view.statement_of(calls[0])  # the call itself may be the write: `model_update(email, data={"status": SENT})`
        on_path = [s for s in [*on_the_way(view, calls[0]), own] if (s.lineno, s.col_offset) > after_test]
        written = _stored_write(view, node.test, on_path)
        if written is not None:
            chain, line, owner = written
            if calls[0].lineno <= line <= (calls[0].end_lineno or calls[0].lineno):
                when = "the call sets it"
            else:
                when = "records it after" if (line, 0) > first else "sets it before"
            return f"it compares `{chain}` (line {node.lineno}) before {'sending' if sends else 'the call'} and {when} (line {line})", owner
    return "", None


def _claimed_in_test(view: FunctionView, node: ast.If | ast.While, encloses: bool) -> str:
    """A pending mark the condition takes away as it reads it (`if cache.delete(key):` runs the body only for
    the run that removed the mark), or reads after the function cleared it (`flag.clear()` ... `if
    flag.get():` runs the body only when something set it again meanwhile)."""
    if not encloses:
        return ""
    for name in (n for n in ast.walk(node.test) if isinstance(n, ast.Name)):
        value = getattr(view.binding_before(name.id, node), "value", None)
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and "pop" in value.func.attr.lower() and not _a_dict_pop(value):
            return (f"it runs only for what `{one_line(view.segment(value), 50)}` (line {value.lineno}) took off a queue: a repeat "
                    "takes the next item, not this one")
    for call in (n for n in ast.walk(node.test) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
        if call.func.attr in TAKES_A_MARK and call.args:
            return f"it runs only when `{one_line(view.segment(call), 60)}` (line {node.lineno}) removes a pending mark, which a repeat finds gone"
        if call.func.attr in READS_A_MARK:
            mark = _mark_of(view, call)
            cleared = next((c for c in view.calls() if isinstance(c.func, ast.Attribute) and c.func.attr in CLEARS_A_MARK
                            and _mark_of(view, c) == mark and (c.lineno, c.col_offset) < (node.lineno, node.col_offset)), None)
            if cleared is not None:
                return (f"it runs only when `{one_line(view.segment(call), 50)}` (line {node.lineno}) finds the mark set again after "
                        f"the function cleared it (line {cleared.lineno})")
    return ""


def _a_dict_pop(call: ast.Call) -> bool:
    """`kwargs.pop("index", True)`: a key taken out of a dict, not an item off a queue (`queue.get_and_pop_next()`,
    `redis.lpop(key)`)."""
    return call.func.attr == "pop" and (len(call.args) == 2 or bool(
        call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)))


def _mark_of(view: FunctionView, call: ast.Call) -> tuple[str, str]:
    """What a mark call names: its receiver and its key (`cache.get(key)`), or the receiver alone (`flag.get()`)."""
    return view.segment(call.func.value), view.segment(call.args[0]) if call.args else ""


def _in_body(view: FunctionView, call: ast.Call, branch: ast.If | ast.While) -> bool:
    chain = [call, *view.ancestors(call)]
    return any(statement in chain for statement in branch.body)


def _rest_of_block(view: FunctionView, node: ast.stmt) -> list[ast.stmt]:
    where = view.block_of(node)
    return where[1][where[2] + 1 :] if where is not None else []


def _statements_after_exit(view: FunctionView, node: ast.If | ast.While, calls: list[ast.Call]) -> list[ast.stmt] | None:
    """The statements after an `if ...: return` (or raise, continue, break) in its own block, when every call
    is in one of them: the exit then skips the calls."""
    if not node.body or not isinstance(node.body[-1], EXITS):
        return None
    where = view.block_of(node)
    if where is None:
        return None
    rest = _rest_of_block(view, node)
    for call in calls:
        chain = [call, *view.ancestors(call)]
        if not any(statement in chain for statement in rest):
            return None
    return rest


def earlier_statements(block_owner: ast.AST, child: ast.AST) -> list[ast.stmt]:
    for name in ("body", "orelse", "finalbody"):
        block = getattr(block_owner, name, None)
        if isinstance(block, list) and child in block:
            return block[: block.index(child)]
    return []


def always_run(statements: list[ast.stmt]) -> list[ast.stmt]:
    """The simple statements that run whenever these do: a `with` block's body and a `try` body are opened;
    the branches of an if, a loop's body and an except clause may not run, so they are left out."""
    found = []
    for statement in statements:
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            found += always_run(statement.body)
        elif isinstance(statement, ast.Try):
            found += always_run([*statement.body, *statement.finalbody])
        elif not isinstance(statement, COMPOUND):
            found.append(statement)
    return found


def on_the_way(view: FunctionView, call: ast.Call) -> list[ast.stmt]:
    """The statements a run that reaches the call also runs (those of its own blocks, before and after it),
    not those of branches it does not take."""
    chain = [call, *view.ancestors(call)]
    found: list[ast.stmt] = []
    left = False  # a return (or raise, continue, break) after the call ends the way: later statements are off it
    for child, ancestor in zip(chain, chain[1:]):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(ancestor, name, None)
            if isinstance(block, list) and child in block:
                index = block.index(child)
                found += block[:index]
                if not left:
                    later = block[index + 1 :]
                    exit_at = next((i for i, s in enumerate(later) if isinstance(s, EXITS)), None)
                    found += later if exit_at is None else later[: exit_at + 1]
                    left = exit_at is not None
    return found


def before(view: FunctionView, call: ast.Call):
    """(statement, node) for every node of the statements that run before the call on its way."""
    chain = [call, *view.ancestors(call)]
    for child, ancestor in zip(chain, chain[1:]):
        for earlier in earlier_statements(ancestor, child):
            for node in ast.walk(earlier):
                yield earlier, node


def is_update(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {"update", "aupdate"}


def sent_mark(node: ast.AST) -> str:
    """The sent marker a node writes: `....update(email_sent_at=...)` or `row.notified = ...` ("" for none)."""
    names = []
    if is_update(node):
        names = [k.arg for k in node.keywords if k.arg]
    elif isinstance(node, ast.Assign):
        names = [t.attr for t in node.targets if isinstance(t, ast.Attribute)]
    return next((name for name in names if set(words(name)) & FLAG_WORDS), "")


def claimed_by_update(update: ast.Call) -> str:
    """The field of `.filter(..., F=a).update(F=b)`: the update takes the rows out of what the filter selects."""
    updated = {k.arg for k in update.keywords if k.arg}
    node = update.func.value
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in {"filter", "exclude"}:
            common = updated & {k.arg for k in node.keywords if k.arg}
            if common:
                return sorted(common)[0]
        node = node.func.value
    return ""


def _stored_write(view: FunctionView, test: ast.AST, statements: list[ast.stmt]) -> tuple[str, int, ast.AST] | None:
    """(chain, line) when the test reads a stored value (`gs.settings.last_result`, `mail.state`) that one of
    `statements` sets to a fixed value or to the value it was compared with, and stores: `x.a = ...` then
    `x.save()`, `event.settings.x = ...`, `x.a.set("b", ...)` or `setattr(x.a, "b", ...)`."""
    read = {view.segment(n) for n in ast.walk(test) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load)}
    read.discard("")
    if not read:
        return None
    compared = {view.segment(n) for n in ast.walk(test) if isinstance(n, (ast.Name, ast.Attribute))}
    for statement in always_run(statements):
        for node in ast.walk(statement):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    chain = view.segment(target) if isinstance(target, ast.Attribute) else ""
                    if chain in read and _fixed(view, node.value, compared) and stored(view, chain, node):
                        return chain, node.lineno, _root(target)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "set" and node.args and isinstance(node.args[0], ast.Constant):
                chain = f"{view.segment(node.func.value)}.{node.args[0].value}"
                if chain in read:
                    return chain, node.lineno, _root(node.func.value)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" and len(node.args) == 3:
                owner, name = node.args[0], node.args[1]
                if isinstance(name, ast.Constant) and f"{view.segment(owner)}.{name.value}" in read:
                    return f"{view.segment(owner)}.{name.value}", node.lineno, _root(owner)
            elif isinstance(node, ast.Call):
                written = _written_through_a_call(view, node, read, compared)
                if written is not None:
                    return written
    return None


def _written_through_a_call(view: FunctionView, call: ast.Call, read: set[str], compared: set[str]) -> tuple[str, int, ast.AST] | None:
    """A stored value written by a call given the row and the new values: a helper handed the object and a
    dict that names the field (`model_update(instance=email, data={"status": Email.Status.SENT})`), or an
    update of the row by its own key (`Email.objects.filter(pk=email.pk).update(status=Email.Status.SENT)`)."""
    arguments = [*call.args, *(k.value for k in call.keywords)]
    owners = {view.segment(a) for a in arguments if isinstance(a, ast.Name)}
    for values in (a for a in arguments if isinstance(a, ast.Dict)):
        for key, value in zip(values.keys, values.values):
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and _fixed(view, value, compared):
                chain = next((f"{owner}.{key.value}" for owner in owners if f"{owner}.{key.value}" in read), None)
                if chain is not None:
                    return chain, call.lineno, next(a for a in arguments if isinstance(a, ast.Name) and chain.startswith(f"{a.id}."))
    if isinstance(call.func, ast.Attribute) and call.func.attr in {"update", "aupdate"} and isinstance(call.func.value, ast.Call):
        selected = call.func.value
        by_key = [k.value for k in selected.keywords if k.arg in {"pk", "id"}] if isinstance(selected.func, ast.Attribute) and selected.func.attr == "filter" else []
        for key in by_key:
            if isinstance(key, ast.Attribute) and key.attr in {"pk", "id"} and isinstance(key.value, ast.Name):
                owner = key.value.id
                for keyword in call.keywords:
                    if keyword.arg and f"{owner}.{keyword.arg}" in read and _fixed(view, keyword.value, compared):
                        return f"{owner}.{keyword.arg}", call.lineno, key.value
    return None


def _root(node: ast.AST) -> ast.AST:
    """`mail` of `mail.state`: the object a stored value belongs to."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node


def fixed_value(view: FunctionView, value: ast.AST) -> bool:
    """A value written the same on every run that names itself: a constant or a named constant (`State.SENT`,
    `self.STATUSES.RUNNING`, an enum's `Status.SENT.value`)."""
    if isinstance(value, ast.Constant):
        return True
    text = view.segment(value) if isinstance(value, (ast.Name, ast.Attribute)) else ""
    return bool(text) and text.removesuffix(".value").rsplit(".", 1)[-1].isupper()


def _fixed(view: FunctionView, value: ast.AST, compared: set[str]) -> bool:
    """A value a repeat writes again the same way: a constant, a named constant (`State.SENDING`), now(), or
    the value the test compared with."""
    if isinstance(value, ast.Constant):
        return True
    if isinstance(value, (ast.Name, ast.Attribute)):
        text = view.segment(value)
        return text in compared or text.rsplit(".", 1)[-1].isupper()
    return isinstance(value, ast.Call) and (dotted(value.func) or "").rsplit(".", 1)[-1] == "now"


def stored(view: FunctionView, chain: str, write: ast.AST) -> bool:
    """The write reaches the database: a settings store, the object saved after it, or the object collected
    into a list the function hands to `bulk_update` (`changed.append(row)` ... `Model.objects.bulk_update(changed, ...)`)."""
    if ".settings." in f".{chain}":
        return True
    owner = chain.rsplit(".", 1)[0]
    calls = view.calls(view.scope_of(write))
    later = [c for c in calls if isinstance(c.func, ast.Attribute) and (c.lineno, c.col_offset) > (write.lineno, write.col_offset)]
    if any(c.func.attr in {"save", "asave"} and view.segment(c.func.value) == owner for c in later):
        return True
    collected = {view.segment(c.func.value) for c in later if c.func.attr == "append" and c.args and view.segment(c.args[0]) == owner}
    return bool(collected) and any(
        isinstance(c.func, ast.Attribute) and c.func.attr in {"bulk_update", "abulk_update"} and c.args
        and view.segment(c.args[0]) in collected
        for c in calls
    )


def _created_names(view: FunctionView) -> set[str]:
    """`log, created = SentEmail.objects.get_or_create(...)`: `created` tells a first run from a repeat."""
    names = set()
    for node in view.nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple):
            value = node.value.value if isinstance(node.value, ast.Await) else node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr.endswith(("get_or_create", "update_or_create")):
                elements = node.targets[0].elts
                if len(elements) == 2 and isinstance(elements[1], ast.Name):
                    names.add(elements[1].id)
    return names


def _flaggy(view: FunctionView, test: ast.AST, planned, created: set[str]) -> bool:
    """Does the condition read a sent flag, a sent timestamp or status, a cache key or an audit row?"""
    for node in ast.walk(test):
        identifiers: list[str] = []
        if isinstance(node, ast.Name):
            identifiers.append(node.id)
            if node.id in created:
                return True
        elif isinstance(node, ast.Attribute):
            if not (isinstance(node.value, ast.Name) and node.value.id == "settings"):  # a switch, not a flag
                identifiers.append(node.attr)
        elif isinstance(node, ast.keyword) and node.arg:
            identifiers.append(node.arg)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 40:
            identifiers.append(node.value)
        for identifier in identifiers:
            if identifier in planned or set(words(identifier)) & FLAG_WORDS:
                return True
        if _email_status(node):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in CACHE_CHECKS and "cache" in view.segment(node.func.value).lower():
                return True
            if node.func.attr in {"exists", "count", "aexists", "acount"} and _chain_words(node.func.value) & AUDIT_WORDS:
                return True
    return False


def _email_status(node: ast.AST) -> bool:
    """`booking.email_status == ...`: a status field about the message itself."""
    if not isinstance(node, ast.Attribute):
        return False
    parts = set(words(node.attr))
    return bool(parts & STATUS_WORDS) and bool(parts & {"email", "mail", "sms", "message", "notification", "delivery"})


def _chain_words(node: ast.AST) -> set[str]:
    found: set[str] = set()
    while isinstance(node, (ast.Call, ast.Attribute, ast.Name)):
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            found |= set(words(node.attr))
            node = node.value
        else:
            found |= set(words(node.id))
            break
    return found
