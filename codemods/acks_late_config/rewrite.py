"""Writing the settings: values replaced in place, a key merged into a literal dict, new settings
inserted after the statement holding the last Celery setting (in its class for class-based settings)."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import PositionProvider

from ..engine.edits import PositionedTransformer
from ..engine.syntax import code_of
from .plans import Insert, MergeKey, SetValue

COMMENT = "# At-least-once delivery: a task whose worker dies runs again instead of being lost (idem-fix acks-late-config)."


def transform(module: cst.Module, plans: list) -> tuple[cst.Module, list]:
    result, transformer = _Rewrite.run(module, plans)
    return result, transformer.applied


class _Rewrite(PositionedTransformer):
    def __init__(self, plans: list):
        super().__init__()
        self.edits = {}  # statement line -> SetValue / MergeKey plans
        for plan in plans:
            if isinstance(plan, (SetValue, MergeKey)):
                self.edits.setdefault(plan.line, []).append(plan)
        self.inserts = [p for p in plans if isinstance(p, Insert)]
        self.applied: list = []

    # --- values and dict keys -----------------------------------------------------------------

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine):
        plans = self.edits.get(self.start_of(original)[0])
        if not plans:
            return updated
        body = list(updated.body)
        for plan in plans:
            for index, small in enumerate(body):
                changed = _edit(small, plan)
                if changed is not None:
                    body[index] = changed
                    self.applied.append(plan)
                    break
        return updated.with_changes(body=body)

    # --- new settings ---------------------------------------------------------------------------

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        plans = [p for p in self.inserts if not p.in_class]
        return updated.with_changes(body=self._insert(original.body, updated.body, plans, top=True)) if plans else updated

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        plans = [p for p in self.inserts if p.in_class == original.name.value]
        if not plans or not isinstance(updated.body, cst.IndentedBlock):
            return updated
        body = self._insert(original.body.body, updated.body.body, plans, top=False)
        return updated.with_changes(body=updated.body.with_changes(body=body))

    def _insert(self, original_body, updated_body, plans: list[Insert], top: bool) -> list:
        body = list(updated_body)
        after = plans[0].after
        if after:
            index = next((i for i, s in enumerate(original_body) if self._spans(s, after)), None)
            if index is None:
                return body
        else:
            index = len(body) - 1
        new = [cst.parse_statement(f"{p.spelled} = {p.value}\n") for p in plans]
        lead = [cst.EmptyLine()] if top and not after else []
        new[0] = new[0].with_changes(leading_lines=[*lead, cst.EmptyLine(comment=cst.Comment(COMMENT))])
        self.applied.extend(plans)
        return body[: index + 1] + new + body[index + 1:]

    def _spans(self, statement: cst.CSTNode, line: int) -> bool:
        where = self.get_metadata(PositionProvider, statement)
        return where.start.line <= line <= where.end.line


def _edit(small: cst.BaseSmallStatement, plan) -> cst.BaseSmallStatement | None:
    """The statement with the plan's value written, or None when the plan names something else."""
    if isinstance(small, (cst.Assign, cst.AnnAssign)):
        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
        if len(targets) == 1 and code_of(targets[0]) == plan.written and small.value is not None:
            value = _new_value(small.value, plan)
            return small.with_changes(value=value) if value is not None else None
        return None
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        call = small.value
        callee = code_of(call.func)
        args = list(call.args)
        for index, arg in enumerate(args):
            if arg.keyword is not None and f"{callee}({arg.keyword.value}=...)" == plan.written:
                value = _new_value(arg.value, plan)
                if value is None:
                    return None
                args[index] = arg.with_changes(value=value)
                return small.with_changes(value=call.with_changes(args=args))
            if arg.keyword is None and isinstance(arg.value, cst.Dict):
                elements = list(arg.value.elements)
                for position, element in enumerate(elements):
                    key = element.key if isinstance(element, cst.DictElement) else None
                    if isinstance(key, cst.SimpleString) and f"{callee}({key.evaluated_value!r}: ...)" == plan.written:
                        value = _new_value(element.value, plan)
                        if value is None:
                            return None
                        elements[position] = element.with_changes(value=value)
                        dict_ = arg.value.with_changes(elements=elements)
                        args[index] = arg.with_changes(value=dict_)
                        return small.with_changes(value=call.with_changes(args=args))
    return None


def _new_value(value: cst.BaseExpression, plan) -> cst.BaseExpression | None:
    if isinstance(plan, SetValue):
        return cst.parse_expression(plan.value)
    if isinstance(value, cst.Dict):
        return _merged(value, plan.key, cst.parse_expression(plan.value))
    return None


def _merged(dict_: cst.Dict, key: str, value: cst.BaseExpression) -> cst.Dict | None:
    """The dict with `key` set to `value`: the element replaced when present, else added after the last
    one in the dict's own layout (one per line, or inline)."""
    elements = list(dict_.elements)
    strings = [e.key for e in elements if isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)]
    for index, element in enumerate(elements):
        if isinstance(element, cst.DictElement) and element.key in strings and element.key.evaluated_value == key:
            elements[index] = element.with_changes(value=value)
            return dict_.with_changes(elements=elements)
    quote = strings[0].quote if strings else '"'
    added = cst.DictElement(cst.SimpleString(f"{quote}{key}{quote}"), value)
    if not elements:
        return dict_.with_changes(elements=[added])
    last = elements[-1]
    if len(elements) > 1 and isinstance(elements[-2].comma, cst.Comma):
        between = elements[-2].comma
    elif isinstance(dict_.lbrace.whitespace_after, cst.ParenthesizedWhitespace):
        between = cst.Comma(whitespace_after=dict_.lbrace.whitespace_after)
    else:
        between = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    trailing = last.comma if isinstance(last.comma, cst.Comma) else cst.MaybeSentinel.DEFAULT
    elements[-1] = last.with_changes(comma=between)
    elements.append(added.with_changes(comma=trailing))
    return dict_.with_changes(elements=elements)
