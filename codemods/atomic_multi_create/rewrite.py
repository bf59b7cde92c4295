"""Each planned run of statements moved into the body of a new `with <atomic>():` in its block, with
`from django.db import transaction` added once (an existing import or alias reused, a local name never
clobbered)."""

from __future__ import annotations

import libcst as cst

from ..engine.edits import PositionedTransformer
from ..engine.imports import ensure_from_import
from .detect import Plan


def transform(module: cst.Module, plans: list[Plan]) -> tuple[cst.Module, list]:
    t_module, t_name = ensure_from_import(module, "django.db", "transaction")
    a_module, a_name = ensure_from_import(module, "django.db.transaction", "atomic")
    choices: list[tuple[str, tuple[str, str] | None]] = []
    if t_module is module:
        choices.append((f"{t_name}.atomic", None))
    if a_module is module:
        choices.append((a_name, None))
    choices += [(f"{t_name}.atomic", ("django.db", "transaction")), (a_name, ("django.db.transaction", "atomic"))]
    callees: dict[Plan, str] = {}
    needs: dict[Plan, tuple[str, str] | None] = {}
    open_plans = [p for p in plans if not p.local]
    for callee, need in choices:  # one name for the whole file when one fits every function
        if all(callee.split(".")[0] not in p.avoid for p in open_plans):
            choices = [(callee, need)]
            break
    for plan in plans:
        if plan.local:
            callees[plan], needs[plan] = plan.local, None
            continue
        for callee, need in choices:
            if callee.split(".")[0] not in plan.avoid:
                callees[plan], needs[plan] = callee, need
                break
    result, transformer = _Wrap.run(module, callees)
    expected = {("django.db", "transaction"): t_name, ("django.db.transaction", "atomic"): a_name}
    for need in dict.fromkeys(needs[p] for p in transformer.applied if needs[p]):
        result, local = ensure_from_import(result, *need)
        if local != expected[need]:  # the name the new `with` lines use: never write a mismatch
            return module, []
    return result, transformer.applied


class _Wrap(PositionedTransformer):
    """Moves each planned run of statements into the body of a new `with <atomic>():` in its block."""

    def __init__(self, callees: dict[Plan, str]):
        super().__init__()
        self.callees = callees
        self.plans = {(p.line, p.column): p for p in callees}
        self.applied: list[Plan] = []

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        starts = [self.start_of(statement) for statement in original.body]
        found = [(index, self.plans[start]) for index, start in enumerate(starts) if start in self.plans]
        if not found:
            return updated
        body = list(updated.body)
        for index, plan in sorted(found, key=lambda item: item[0], reverse=True):
            last = index
            while last + 1 < len(starts) and starts[last + 1][0] <= plan.end_line:
                last += 1
            body[index : last + 1] = [self._with(body[index : last + 1], self.callees[plan], updated.indent)]
            self.applied.append(plan)
        return updated.with_changes(body=body)

    @staticmethod
    def _with(statements: list[cst.BaseStatement], callee: str, indent: str | None) -> cst.With:
        first = statements[0]
        lines = list(first.leading_lines)
        split = len(lines)
        while split > 0 and lines[split - 1].comment is not None:
            split -= 1  # the comment lines right above the first statement belong to it and move with it
        moved = [first.with_changes(leading_lines=lines[split:]), *statements[1:]]
        return cst.With(
            items=[cst.WithItem(cst.parse_expression(f"{callee}()"))],
            body=cst.IndentedBlock(body=moved, indent=indent),
            leading_lines=lines[:split],
        )
