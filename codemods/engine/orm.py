"""Django ORM knowledge shared by rules and the audit: which model a create call makes rows of."""

from __future__ import annotations

import ast
import re

from . import facts
from .levels import Refusal
from .names import dotted
from .project import Model, Project

RELATIONS = {"ForeignKey", "OneToOneField", "ParentalKey"}
# Models whose rows record what happened (a log, a history, an audit trail): a repeat that records again says
# what it did again, so the audit rates such rows low. Narrower than the rows create-to-get-or-create refuses
# to key (`APPEND_ONLY` there), which only has to be sure not to merge rows.
LOG_ROWS = re.compile(r"(Log|Logs|Event|History|Audit|AuditLog|Attempt|Trail)$")


def resolve_create(project: Project, module: str, site: facts.CreateSite) -> tuple[Model, tuple[str, ...]] | Refusal | None:
    """(Model, implicit lookup fields) for the create's receiver; None when it is not a model; a Refusal when unsure."""
    symbol = project.resolve(module, site.receiver)
    if symbol.kind == "class":
        model = project.model(symbol.module, symbol.name)
        return (model, ()) if model else None
    if symbol.kind in {"module", "function", "external", "app"}:
        return None
    if site.receiver_type:  # `client = Client(...)`: a model instance is fetched, not constructed here
        built = project.resolve(module, site.receiver_type)
        if built.kind != "class" or project.model(built.module, built.name) is None:
            return None
    candidates = [(m, r) for m, r in project.related_manager(site.manager) if takes_kwargs(m, site)]
    if len(candidates) == 1:
        model, relation = candidates[0]
        return model, (relation,)
    if len(candidates) > 1:
        names = ", ".join(sorted({m.label for m, _ in candidates}))
        return Refusal(f"{site.receiver}.{site.manager}.create(): `{site.manager}` is a related manager of several models ({names}); not rewritten")
    return None


def takes_kwargs(model: Model, site: facts.CreateSite) -> bool:
    """Every named kwarg is a field of the model: `client.messages.create(to=..., from_=...)` is not a Message."""
    return all(
        field_name(model, k.name) in model.fields or field_name(model, k.name) == "id"
        for k in site.kwargs
        if k.name
    )


def field_name(model: Model, kwarg: str) -> str:
    """`account_id` names the `account` relation; `pk` the primary key."""
    if kwarg == "pk":
        return "id"
    if kwarg.endswith("_id") and model.fields.get(kwarg[:-3]) and model.fields[kwarg[:-3]].kind in RELATIONS:
        return kwarg[:-3]
    return kwarg


def queried_model(project: Project, module: str, node: ast.AST | None) -> Model | None:
    """The model an expression fetches or iterates rows of: `Order.objects.get(...)`,
    `Order.objects.select_related("a").filter(...)`, `get_object_or_404(Order, ...)`."""
    if isinstance(node, ast.Await):
        node = node.value
    if isinstance(node, ast.Call) and (dotted(node.func) or "").rsplit(".", 1)[-1] in {"get_object_or_404", "aget_object_or_404", "get_list_or_404"}:
        return project.model_of(module, dotted(node.args[0]) or "") if node.args else None
    while isinstance(node, (ast.Call, ast.Attribute)):
        node = node.func if isinstance(node, ast.Call) else node.value
        if isinstance(node, ast.Attribute):
            model = project.model_of(module, dotted(node.value) or "")
            if model is not None:
                return model
    return None

