"""What one effect a task reaches does on a repeat, as a finding: the message, the level on the audit's scale
and the fix that fits. Asked by `assess.py` once per effect, before guards and rules have their say."""

from __future__ import annotations

import re

from . import facts
from .aggregates import makes_a_row
from .effects import QUERYSET_HINTS
from .levels import Refusal
from .orm import LOG_ROWS, resolve_create
from .project import FunctionKey, Project
from .fresh_rows import fresh_relations, keyed_on_a_fresh_row
from .replacements import deleted_first, replaced_after, stores_a_replacement, written_again_after
from .report import AuditFinding
from .rules import money_risk
from .source import one_line

MONEY_LIBRARIES = re.compile(r"\b(stripe|braintree|adyen|paypal\w*|mollie|plaid|wise|transferwise)\b", re.IGNORECASE)


BULK_INDEX = frozenset({"bulk", "streaming_bulk", "parallel_bulk"})


def _documents_have_ids(project: Project, key: FunctionKey) -> bool:
    """Whether the module that bulk-indexes names an `_id` for its documents (else the index makes one per write)."""
    source = project.source(key.module)
    return source is None or "_id'" in source.text or '_id"' in source.text


def _held_object_no_model(project: Project, key: FunctionKey, receiver: str) -> bool:
    """`self._stem_cache` when the class sets it from a project class that is no model (`self._stem_cache =
    StemCache(...)`, in any of its methods)."""
    attribute = receiver.removeprefix("self.")
    if attribute == receiver or not attribute.isidentifier() or "." not in key.qualname:
        return False
    owner = FunctionKey(key.module, key.qualname.rsplit(".", 1)[0])
    cls = project.cls(owner)
    for method in cls.methods.values() if cls is not None else ():
        callee = _built_from(project, FunctionKey(key.module, method.qualname), receiver)
        if callee:
            return _a_class_but_no_model(project, key, callee)
    return False


def _children_of_a_fresh_root(project: Project, task: FunctionKey, key: FunctionKey, effect: facts.Effect) -> str:
    """Rows made in a loop (or in bulk) keyed on a row the run made in another function (`project` handed to
    `_import_user_stories(project)` by the importer that created it): the relation and where its row comes from.
    A root made in this same function is reported at the root (`Aggregates`)."""
    if not (effect.in_loop or effect.call.endswith(("bulk_create", "abulk_create"))):
        return ""
    view = project.view(key)
    for field, held, why in fresh_relations(project, task, key, effect):
        if view is not None and held and not view.bindings(held):
            return f"{field}, which {why}"
    return ""


def _module_object_no_model(project: Project, key: FunctionKey, receiver: str) -> bool:
    """A name the function neither binds nor is handed, bound at the top of its module or of the project module it
    is imported from to an object of a project class that is no model (`local_cache = LocalCache()`)."""
    text = project.function_text(key)
    if not receiver.isidentifier() or re.search(rf"\b{receiver}\b\s*(=[^=]|[:,)])", text):
        return False
    symbol = project.resolve(key.module, receiver)
    if symbol.kind == "unknown" and symbol.name == receiver:
        module = symbol.module
    elif symbol.kind == "external" and "." in symbol.name:
        owner, _, receiver = symbol.name.rpartition(".")
        summary = project.module(owner)
        module = summary.name if summary is not None else ""
    else:
        return False
    source = project.source(module) if module else None
    built = re.search(rf"^{re.escape(receiver)}\s*=\s*([\w.]+)\(", source.text, re.M) if source is not None else None
    return built is not None and _a_class_but_no_model(project, FunctionKey(module, receiver), built.group(1))


def _a_class_but_no_model(project: Project, key: FunctionKey, callee: str) -> bool:
    """A class of the project that is not a Django model (its `save()` writes what it likes, not a row)."""
    symbol = project.resolve(key.module, callee) if callee else None
    return symbol is not None and symbol.kind == "class" and project.model(symbol.module, symbol.name) is None


def _built_from(project: Project, key: FunctionKey, receiver: str) -> str:
    """The class, as written, an object the function binds was built from (`edit = models.EditLog(...)` ->
    "models.EditLog", also `self._cache: Cache = Cache()`), read off the function's text; "" when none is."""
    named = receiver.replace(".", "").replace("_", "").isalnum()
    built = re.findall(rf"^\s*{re.escape(receiver)}\s*(?::[^=\n]*)?=\s*([\w.]+)\(", project.function_text(key), re.M) if named else []
    return next((callee for callee in built if callee.rsplit(".", 1)[-1][:1].isupper()), "")


def effect_finding(project: Project, task: FunctionKey, key: FunctionKey, function: facts.Function, effect: facts.Effect) -> AuditFinding | None:
    path = project.display(key.module)
    where = "" if not function.qualname else f" in {function.qualname}()"
    call = one_line(effect.call, 80)

    def finding(risk: str, message: str, advice: str) -> AuditFinding:
        return AuditFinding("manual", path, effect.line, risk, message + where, "manual", "", effect.kind, advice)

    root = makes_a_row(effect) and (effect.target or effect.kind == "db_save")  # a row a name holds, to key others on
    aggregate = project.aggregates.rooted_at(key, effect) if root else None
    if aggregate is not None and aggregate.many:
        model, child = aggregate.model, aggregate.child
        return AuditFinding(
            "manual", path, effect.line, "high",
            f"{call}() starts a new {model} on every run and {one_line(child.call, 60)}() (line {child.line}) adds rows keyed "
            f"on it: a redelivery builds a second {model} with all its rows{where}",
            "manual", "", "fresh_aggregate",
            f"give the {model} an identity a redelivery finds (the task's id or its input, behind a unique constraint) and "
            "return early when it is there; per-row fixes cannot stop a second aggregate",
        )
    built_again = _children_of_a_fresh_root(project, task, key, effect) if effect.kind == "db_create" else ""
    if built_again:
        return AuditFinding(
            "manual", path, effect.line, "high",
            f"{call}() makes rows keyed on {built_again}: a redelivery makes that row again and all these rows with it "
            f"(a second full import){where}",
            "manual", "", "fresh_aggregate",
            "give the row they hang off an identity a redelivery finds (the task's id or its input, behind a unique "
            "constraint) and return early when it is there; per-row fixes cannot stop a second aggregate",
        )
    if effect.kind == "db_create":
        site = next((s for s in function.creates if s.line == effect.line), None)
        model_name = _model_name(project, key, site)
        if site is not None and model_name is None:
            return None  # not a Django model we know (a client's .create())
        name = model_name or call.split(".")[0]
        money = money_risk(name, call)
        if LOG_ROWS.search(name):
            return finding("low", f"{call}() records {name} rows (an append-only log): a repeat adds rows for what it does again", "")
        bulk = call.endswith("bulk_create")
        if bulk and effect.skips_conflicts:
            unique, nullable = _unique_constraint(project, key, effect)
            if unique and nullable:
                return finding("low", f"{call}() meets the rows {unique} already holds with ignore_conflicts or update_conflicts, "
                               f"except rows whose {' or '.join(nullable)} is NULL (the database never counts two NULLs as equal): "
                               "those are added again", "")
            if unique:
                return finding("low", f"{call}() meets the rows {unique} already holds with ignore_conflicts or update_conflicts "
                               "instead of adding them again: already safe to repeat", "")
            return finding(
                "moderate", f"{call}() creates rows ({name}) again on a redelivery: no unique constraint makes ignore_conflicts skip them",
                f"a unique constraint on the fields that identify a {name}, after checking that existing rows do not share them",
            )
        return finding(
            "critical" if money else "moderate",
            f"{call}() creates {'money records' if money else 'a row'} ({name}): a redelivery creates "
            f"{'them' if bulk else 'it'} again",
            "bulk_create(..., ignore_conflicts=True) behind a unique constraint" if bulk
            else "get_or_create keyed on the row's identity, behind a unique constraint",
        )
    if effect.kind == "db_upsert":
        cleared = deleted_first(function, effect)
        if cleared is not None:
            return finding("low", f"{call}() makes again the rows `{one_line(cleared.call, 50)}()` (line {cleared.line}) deleted "
                           "just before: a repeat deletes and makes them again, to the same end", "")
        fresh = keyed_on_a_fresh_row(project, task, key, effect)
        if fresh:
            return finding("moderate", f"{call}() looks its row up by {fresh}: a repeat never finds the first run's row "
                                       "and makes another", "")
        return finding("low", f"{call}() finds the row a first run made", "")
    if effect.kind == "db_save" and effect.family == "new_row":
        callee = _built_from(project, key, effect.receiver)
        if _a_class_but_no_model(project, key, callee):
            return None  # `classifier = DocumentClassifier(); classifier.save()`: the project's own class, not a row
        built = callee.rsplit(".", 1)[-1]
        if LOG_ROWS.search(built):
            return finding("low", f"{call}() records a new {built} row (an append-only log): a repeat adds rows for what it does again", "")
        return finding(
            "moderate", f"{call}() inserts the row built in this function: a redelivery inserts another one",
            "look the row up by what identifies it (get_or_create behind a unique constraint) instead of building a new one",
        )
    if effect.family == "increment":
        return finding(
            "moderate", f"{call}() saves a count raised before it (`+= 1` or `F() + 1`): a redelivery counts again",
            "count from what the rows hold (a query's count) rather than adding to the stored number, or record the "
            "task's id with the change and skip it when recorded",
        )
    if effect.kind == "db_save" and effect.family == "volatile":
        receiver = one_line(effect.receiver, 40)
        return finding("low", f"{call}() saves {receiver} with a value made new on every run (a uuid or random name): a "
                              "repeat writes another one, and what the first named (a file, a link) is left behind", "")
    replacement = stores_a_replacement(project, key, function, effect) if effect.kind == "db_save" else ""
    if replacement:
        return finding("low", f"{call}() stores {replacement}: a repeat deletes the first run's replacement and "
                              "stores one of its own", "")
    if effect.kind == "db_save" and not effect.family and _held_object_no_model(project, key, effect.receiver):
        return None  # `self._stem_cache.save()` with `self._stem_cache = StemCache()`: the project's own class, not a row
    if effect.kind in {"db_save", "db_delete"} and not effect.family and _module_object_no_model(project, key, effect.receiver):
        return None  # `local_cache.delete(key)` with `local_cache = LocalCache()` at a module's top: not a row either
    if effect.kind == "db_save" and effect.family == "update_fields":
        return finding("low", f"{call}() updates the fields it names on a row that exists (update_fields): the same update again", "")
    if effect.kind == "db_save" and effect.family == "read_row":
        return finding("low", f"{call}() saves the row a query returned: the same update again", "")
    if effect.kind == "db_save":
        receiver = one_line(effect.receiver, 40)
        return finding(
            "low", f"{call}() saves {receiver}: an update repeats to the same result; if it is a new row a caller built, "
            "a redelivery inserts another (where it comes from is not read here)", "",
        )
    if effect.kind == "db_update" and effect.family == "volatile":
        return finding("low", f"{call}() updates rows to a value made new on every run (a uuid or random value): a "
                              "repeat writes another one, harmless unless something keeps the first", "")
    if effect.kind == "db_update" and effect.family == "stamped":
        return finding("low", f"{call}() updates rows to the values it sets, with the time of the run: a repeat sets "
                              "them again with a later time", "")
    if effect.kind == "db_update":
        return finding("low", f"{call}() updates rows to the values it sets: repeating it gives the same result", "")
    rewritten = written_again_after(project, key, function, effect) if effect.kind == "db_delete" and any(
        hint in effect.receiver + "." for hint in QUERYSET_HINTS) else ""
    if rewritten:
        return finding("low", f"{call}() deletes the rows its query selects when it runs, and the function may write such "
                              f"rows after it ({rewritten}): a repeat deletes what a first run wrote there, where it "
                              "matches the query, and writes it again", "")
    if effect.kind == "db_delete" and any(hint in effect.receiver + "." for hint in QUERYSET_HINTS):
        return finding("low", f"{call}() deletes the rows its query selects when it runs: what a first run deleted is "
                              "already gone, a repeat deletes only what matches then", "")
    replaced = replaced_after(project, key, effect) if effect.kind == "db_delete" else 0
    if replaced:
        return finding("low", f"{call}() deletes what {effect.receiver} holds (and whatever that delete cascades to), which "
                              f"the function then replaces (line {replaced}): a repeat deletes the first run's replacement", "")
    if effect.kind == "db_delete":
        return finding("low", f"{call}() deletes again: what a first run deleted is already gone, so a repeat deletes "
                              "nothing more", "")
    if effect.kind == "send":
        return finding(
            "moderate",
            f"{call}() sends a message: a redelivery sends it again",
            "claim a sent flag atomically before the first side effect (rule sent-flag)",
        )
    if effect.kind == "credential":
        return finding(
            "critical",
            f"{call}() changes credentials: a redelivery changes them again (a password already sent stops working)",
            "claim a flag before the change so that a redelivery stops first (rule sent-flag), or move the change "
            "behind a one-time token",
        )
    if effect.kind == "external" and effect.family == "payment":
        return finding(
            "critical", f"{call}() moves money through a payment provider: a redelivery charges or pays again",
            "pass an idempotency key made from the task's input (Stripe: idempotency_key=...), or store the payment's "
            "id and return early when it is set (rule guard-external-call)",
        )
    if effect.kind == "external" and effect.family == "paid_call":
        return finding(
            "moderate", f"{call}() calls an API billed per call: a redelivery pays for the call again",
            "store the result and return early when it is already there (rule guard-external-call)",
        )
    if effect.kind == "external" and effect.family == "analytics":
        return finding(
            "moderate", f"{call}() records an event with an analytics service: a redelivery records it again, and the "
            "event is counted twice", "give the event an id made from the task's input (a message id the service drops "
            "repeats by), or record that it was sent and return early",
        )
    if effect.kind == "external" and effect.family == "webhook":
        return finding(
            "high", f"{call}() posts a webhook with no delivery id: a redelivery posts it again and the receiver cannot "
            "tell it is a repeat",
            "send a delivery id made from the task's input (an Idempotency-Key or X-Delivery-ID header) so the "
            "receiver drops the repeat, or record the delivery and return early when it is recorded",
        )
    if effect.kind == "external":
        money = money_risk(call) or bool(MONEY_LIBRARIES.search(call))
        return finding(
            "critical" if money else "high",
            f"{call}() changes state in an external system{' (money)' if money else ''}: a redelivery calls it again",
            "store the external reference and return early when it is set (rule guard-external-call), "
            "or pass an idempotency key",
        )
    if effect.kind == "external_read" and effect.family == "check":
        return finding("low", f"{call}() posts to an endpoint named as a check: read as a query that changes nothing there", "")
    if effect.kind == "external_read":
        return finding("low", f"{call}() reads from an external system", "")
    if effect.kind == "search_index" and call.rsplit(".", 1)[-1] in BULK_INDEX and not _documents_have_ids(project, key):
        return finding("moderate", f"{call}() indexes documents that carry no `_id`: a redelivery adds them again",
                       "give each document an `_id` made from what it describes (its model and primary key)")
    if effect.kind == "search_index":
        return finding("low", f"{call}() writes a search index entry keyed by id: writing it again gives the same index", "")
    singleton = _singleton_task(project, key, effect) if effect.kind == "fanout" else ""
    if singleton:
        return finding(
            "low", f"{call}() enqueues {singleton}, a {SINGLETON} task: while one is queued or running, a repeat "
            "joins it instead of running twice", "",
        )
    if effect.kind == "fanout" and (effect.in_atomic or function.atomic):
        return finding(
            "moderate",
            f"{call}() enqueues another task inside a transaction: it may run before the commit (reading rows not "
            "saved yet) or for a transaction that rolls back, and a redelivery enqueues it again",
            "enqueue it in transaction.on_commit(lambda: ...), and make the enqueued task idempotent too",
        )
    if effect.kind == "fanout":
        return finding(
            "moderate",
            f"{call}() enqueues another task: a redelivery enqueues it again",
            "make the enqueued task idempotent too; enqueue it in transaction.on_commit",
        )
    return None


ENQUEUED = re.compile(r"^([\w.]+?)\.(delay|apply_async|s|si|signature)\b")


SINGLETON = "celery_singleton Singleton"


def _singleton_task(project: Project, key: FunctionKey, effect: facts.Effect) -> str:
    """The name of the task an enqueue runs when it is built on celery_singleton's Singleton, else ""."""
    singletons = project.singleton_tasks
    match = ENQUEUED.match(effect.call) if singletons else None
    return next((singletons[t] for t in project.call_targets(key, match.group(1)) if t in singletons), "") if match else ""


def _unique_constraint(project: Project, key: FunctionKey, effect: facts.Effect) -> tuple[str, list[str]]:
    """An unconditional unique constraint of the model a bulk_create writes, other than an automatic id
    (new rows get new ids, so that one never conflicts), and its fields that may hold NULL (rows with NULL
    there never conflict)."""
    manager_of = effect.receiver.rsplit(".", 1)[0] if "." in effect.receiver else effect.receiver
    model = project.model_of(key.module, manager_of)

    def automatic(name: str) -> bool:
        field = model.fields.get(name)
        return name == "id" if field is None else field.kind.endswith("AutoField")

    constraint = next(
        (c for c in model.constraints if not c.conditional and not all(automatic(f) for f in c.fields)), None
    ) if model is not None else None
    if constraint is None:
        return "", []
    return f"{model.name}.{constraint.name}", [f for f in constraint.fields if f in model.fields and model.fields[f].null]


def _model_name(project: Project, key: FunctionKey, site: facts.CreateSite | None) -> str | None:
    if site is None:
        return ""
    resolved = resolve_create(project, key.module, site)
    if resolved is None:
        return None
    if isinstance(resolved, Refusal):
        return site.receiver.rsplit(".", 1)[-1]
    return resolved[0].name
