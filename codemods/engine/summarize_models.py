"""Classes in a module's summary: Django model fields, constraints, managers and Meta options."""

from __future__ import annotations

import ast

from . import facts
from .names import dotted
from .walk import walk

META_OPTIONS = frozenset({"abstract", "proxy", "managed"})  # the Meta options rules read
# Task options that decide whether a task can run twice, as a Task class may set them
TASK_OPTIONS = frozenset({"acks_late", "reject_on_worker_lost", "acks_on_failure_or_timeout"})


class ModelFacts:
    """Part of the module summarizer: what a class body says."""

    def _class(self, node: ast.ClassDef, prefix: str = "") -> facts.Class:
        qualname = prefix + node.name
        methods: dict[str, facts.Function] = {}
        fields: dict[str, facts.ModelField] = {}
        constraints: list[facts.Constraint] = []
        managers: list[str] = []
        meta: dict[str, object] = {}
        attributes: list[str] = []
        options: dict[str, object] = {}
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                methods[stmt.name] = self._function(stmt, f"{qualname}.{stmt.name}")
            elif isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
                meta, constraints = self._meta(stmt)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                attributes.extend(t.id for t in targets if isinstance(t, ast.Name))
                if len(targets) != 1 or not isinstance(targets[0], ast.Name) or stmt.value is None:
                    continue
                name = targets[0].id
                value = stmt.value
                if name in TASK_OPTIONS and isinstance(value, ast.Constant):
                    options[name] = value.value
                if not isinstance(value, ast.Call):
                    continue
                callee = dotted(value.func) or ""
                kind = callee.rsplit(".", 1)[-1]
                if kind.endswith("Field") or kind in {"ForeignKey", "ForeignObject", "ParentalKey"}:
                    fields[name] = self._field(name, kind, value)
                elif kind.endswith("Manager") or kind == "as_manager" or _is_from_queryset(value):
                    managers.append(name)
        for field in fields.values():
            if field.unique or field.primary_key:
                constraints.append(facts.Constraint((field.name,), f"{field.name} (unique=True)", origin="unique"))
        return facts.Class(
            name=node.name,
            qualname=qualname,
            line=node.lineno,
            bases=[d for d in (dotted(b) for b in node.bases) if d],
            methods=methods,
            fields=fields,
            constraints=constraints,
            managers=managers,
            abstract=meta.get("abstract") is True,
            meta={k: v for k, v in meta.items() if k in META_OPTIONS},
            attributes=tuple(attributes),
            options=options,
        )

    def _field(self, name: str, kind: str, call: ast.Call) -> facts.ModelField:
        options = {k.arg: k.value for k in call.keywords if k.arg}
        target = call.args[0] if call.args else options.get("to")
        target_name = ""
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            target_name = target.value
        elif target is not None:
            target_name = dotted(target) or ""
        related = options.get("related_name")
        return facts.ModelField(
            name=name,
            kind=kind,
            target=target_name if kind in {"ForeignKey", "OneToOneField", "ParentalKey", "ManyToManyField"} else "",
            unique=_is_true(options.get("unique")) or kind == "OneToOneField",
            primary_key=_is_true(options.get("primary_key")),
            related_name=related.value if isinstance(related, ast.Constant) and isinstance(related.value, str) else "",
            null=_is_true(options.get("null")),
            default=self.segment(options["default"]) if "default" in options else None,
        )

    def _meta(self, meta: ast.ClassDef) -> tuple[dict[str, object], list[facts.Constraint]]:
        """The literal options of `class Meta` and its unique constraints."""
        options: dict[str, object] = {}
        constraints: list[facts.Constraint] = []
        for stmt in meta.body:
            if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
                continue
            target = stmt.targets[0]
            if not isinstance(target, ast.Name):
                continue
            if isinstance(stmt.value, ast.Constant):
                options[target.id] = stmt.value.value
            if target.id == "unique_together":
                for group in _unique_together(stmt.value):
                    constraints.append(facts.Constraint(group, "unique_together " + repr(group), origin="unique_together"))
            elif target.id == "constraints" and isinstance(stmt.value, (ast.List, ast.Tuple)):
                for item in stmt.value.elts:
                    constraint = _unique_constraint(item)
                    if constraint:
                        constraints.append(constraint)
        return options, constraints


def _is_true(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _is_from_queryset(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Call) and (dotted(call.func.func) or "").endswith("from_queryset")


def _strings(node) -> tuple[str, ...] | None:
    if isinstance(node, (ast.List, ast.Tuple)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return tuple(e.value for e in node.elts)
    return None


def _unique_together(node) -> list[tuple[str, ...]]:
    flat = _strings(node)
    if flat is not None:
        return [flat] if flat else []
    if isinstance(node, (ast.List, ast.Tuple)):
        return [group for group in (_strings(e) for e in node.elts) if group]
    return []


def _unique_constraint(node) -> facts.Constraint | None:
    if not isinstance(node, ast.Call) or (dotted(node.func) or "").rsplit(".", 1)[-1] != "UniqueConstraint":
        return None
    options = {k.arg: k.value for k in node.keywords if k.arg}
    fields = _strings(options.get("fields"))
    if not fields:
        return None
    name = options.get("name")
    return facts.Constraint(
        fields=fields,
        name=name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else "",
        conditional="condition" in options,
        condition_fields=_q_fields(options.get("condition")),
    )


def _q_fields(node) -> tuple[str, ...]:
    """Field names a `Q(status="open") & ~Q(kind__in=...)` condition reads."""
    if node is None:
        return ()
    names = []
    for child in walk(node):
        if isinstance(child, ast.keyword) and child.arg:
            names.append(child.arg.split("__")[0])
    return tuple(dict.fromkeys(names))

