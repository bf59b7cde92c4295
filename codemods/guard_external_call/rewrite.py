"""`if obj.attr: return` (after `obj.refresh_from_db(fields=["attr"])` when needed) before a statement."""

from __future__ import annotations

import libcst as cst

from ..engine.edits import PositionedTransformer
from .place import Plan


def transform(module: cst.Module, plans: list[Plan]) -> tuple[cst.Module, list[Plan]]:
    result, transformer = _Insert.run(module, plans, module)
    return result, transformer.applied


class _Insert(PositionedTransformer):
    def __init__(self, plans: list[Plan], module: cst.Module):
        super().__init__()
        self.plans: dict[tuple[int, int], list[Plan]] = {}
        for plan in plans:
            self.plans.setdefault((plan.anchor_line, plan.anchor_column), []).append(plan)
        self.indent = module.default_indent
        self.newline = module.default_newline
        self.config = module.config_for_parsing
        self.applied: list[Plan] = []

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        body, changed = [], False
        for before, after in zip(original.body, updated.body):
            plans = self.plans.get(self.start_of(before))
            if plans:
                for code in dict.fromkeys(self.render(p) for p in plans):
                    body.extend(cst.parse_statement(s, config=self.config) for s in code)
                self.applied.extend(plans)
                changed = True
            body.append(after)
        return updated.with_changes(body=body) if changed else updated

    def render(self, plan: Plan) -> tuple[str, ...]:
        nl = self.newline
        statements = []
        if plan.refresh:
            call = "await {0}.arefresh_from_db" if plan.refresh == "async" else "{0}.refresh_from_db"
            statements.append(call.format(plan.obj) + f'(fields=["{plan.attr}"]){nl}')
        statements.append(f"if {plan.obj}.{plan.attr}:{nl}{self.indent}{plan.exit}{nl}")
        return tuple(statements)
