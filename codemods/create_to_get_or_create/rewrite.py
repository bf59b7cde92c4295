"""`create(...)` -> `get_or_create(<identity>, defaults={...})`, laid out as the call was."""

from __future__ import annotations

import libcst as cst

from ..engine.edits import PositionedTransformer
from ..engine.syntax import call_arguments_text
from .detect import Plan


def transform(module: cst.Module, plans: list[Plan]) -> tuple[cst.Module, list[Plan]]:
    result, transformer = _Rewrite.run(module, plans)
    return result, transformer.applied


class _Rewrite(PositionedTransformer):
    def __init__(self, plans: list[Plan]):
        super().__init__()
        self.plans = {(p.line, p.column): p for p in plans}
        self.applied: list[Plan] = []

    def _plan_for(self, node: cst.CSTNode) -> Plan | None:
        if isinstance(node, cst.Await):
            node = node.expression
        if not isinstance(node, cst.Call):
            return None
        plan = self.plans.get(self.start_of(node))
        if plan and isinstance(node.func, cst.Attribute) and node.func.attr.value == plan.method:
            return plan
        return None

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        plan = self._plan_for(original)
        if plan is None:
            return updated
        self.applied.append(plan)
        new_method = "aget_or_create" if plan.method == "acreate" else "get_or_create"
        rewritten = updated.with_changes(func=updated.func.with_changes(attr=cst.Name(new_method)))
        if any(arg.keyword is None or arg.keyword.value not in plan.identity for arg in updated.args):
            parsed = cst.parse_expression(f"f({call_arguments_text(updated, plan.identity, shift=self._shift(plan))})")
            rewritten = rewritten.with_changes(args=parsed.args, whitespace_before_args=parsed.whitespace_before_args)
        if plan.context == "index" and plan.method == "create":
            return _first_of(rewritten)
        return rewritten

    @staticmethod
    def _shift(plan: Plan) -> int:
        """How far the opening bracket moves right: the longer method name, and `, _` before `=`."""
        longer = len("get_or_create") - len("create")
        return longer + (len(", ") + len(plan.throwaway) if plan.context == "assign" else 0)

    def leave_Await(self, original: cst.Await, updated: cst.Await) -> cst.BaseExpression:
        plan = self._plan_for(original)
        if plan and plan.context == "index":
            return _first_of(updated.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]))
        return updated

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        plan = self._plan_for(original.value)
        if plan is None or plan.context != "assign" or len(updated.targets) != 1:
            return updated
        target = updated.targets[0]
        pair = cst.Tuple(
            [
                cst.Element(target.target, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                cst.Element(cst.Name(plan.throwaway)),
            ],
            lpar=[],
            rpar=[],
        )
        return updated.with_changes(targets=[target.with_changes(target=pair)])


def _first_of(expression: cst.BaseExpression) -> cst.Subscript:
    return cst.Subscript(expression, [cst.SubscriptElement(cst.Index(cst.Integer("0")))])
