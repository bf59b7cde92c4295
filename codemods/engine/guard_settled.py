"""A branch whose every reason to run a first run settles: `if not template or template.export_hash !=
export_hash or force:` runs when the row is missing, when its stored hash differs from the one this run
computes, or when asked to; a first run makes the row and stores the hash, and the task never passes `force`,
so a repeat does not take it. Each part of the `or` must be settled, or the branch stays open. A mixin of
`guards.Guards`."""

from __future__ import annotations

import ast

from .guard_checks import stored
from .guard_rows import RowReading
from .project import FunctionKey
from .provenance import Origin
from .source import one_line
from .view import FunctionView

FALSY = frozenset({"False", "None", "0", '""', "''"})
MAKES = frozenset({"create", "acreate"})


class SettledBranches:
    """What `Guards` asks of an `or` around a call; it provides `project`, `_values_passed` and `_passed_on_the_way`."""

    def _branch_settled(self, task: FunctionKey, view: FunctionView, call: ast.Call) -> str:
        """The call sits in the body of an `if a or b or c:` each part of which a first run settles."""
        chain = [call, *view.ancestors(call)]
        for child, branch in zip(chain, chain[1:]):
            if not (isinstance(branch, ast.If) and child in branch.body and isinstance(branch.test, ast.BoolOp)
                    and isinstance(branch.test.op, ast.Or)):
                continue
            if all(isinstance(part, ast.Name) and part.id in view.parameters() for part in branch.test.values):
                continue  # flags alone: a branch the task's calls take or not (`Guards.branch_not_taken`), nothing a run settles
            reasons = []
            for part in branch.test.values:
                reason = self._settled(task, view, branch, part)
                if not reason:
                    break
                reasons.append(reason)
            else:
                return (f"it runs only when `{one_line(view.segment(branch.test), 70)}` (line {branch.lineno}), and a first "
                        f"run settles each part: {'; '.join(reasons)}")
        return ""

    def _settled(self, task: FunctionKey, view: FunctionView, branch: ast.If, part: ast.AST) -> str:
        if isinstance(part, ast.Name) and part.id in view.parameters():
            passed = self._values_passed(task, view.key, view, part.id)
            return f"this task's calls leave {part.id} at {', '.join(sorted(passed))}" if passed and passed <= FALSY else ""
        missing = _tested_missing(part)
        if missing is not None:
            made = _made_after(view, branch, missing)
            reading = RowReading(view, self._passed_on_the_way(task))
            if made is not None and reading.found_among_queried(missing, branch, made[0]):
                return f"`{missing}` is found among the {made[0]} rows a query reads once the first run makes it (line {made[1]})"
            return ""
        compared = _compared_with_stored(part)
        if compared is not None:
            owner, field, value = compared
            if self.project.provenance.of(view, value).origin is Origin.NEW:
                return ""  # `row.token != uuid4()`: a repeat compares with another value
            lines = _stores_after(view, branch, owner, field, view.segment(value))
            if not lines:
                return ""
            where = f"line {lines[0]}" if len(lines) == 1 else f"lines {', '.join(map(str, lines[:-1]))} and {lines[-1]}"
            return f"`{owner}.{field}` holds `{view.segment(value)}` once the first run stores it ({where})"
        return ""


def _tested_missing(part: ast.AST) -> str | None:
    """The name tested for a missing row: `not row`, `row is None`."""
    if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.Not) and isinstance(part.operand, ast.Name):
        return part.operand.id
    if (isinstance(part, ast.Compare) and len(part.ops) == 1 and isinstance(part.ops[0], ast.Is) and isinstance(part.left, ast.Name)
            and isinstance(part.comparators[0], ast.Constant) and part.comparators[0].value is None):
        return part.left.id
    return None


def _compared_with_stored(part: ast.AST) -> tuple[str, str, ast.AST] | None:
    """(row, field, value) of `row.field != value`, with the value a name or constant the run computes."""
    if not (isinstance(part, ast.Compare) and len(part.ops) == 1 and isinstance(part.ops[0], ast.NotEq)):
        return None
    for stored_side, value in ((part.left, part.comparators[0]), (part.comparators[0], part.left)):
        if (isinstance(stored_side, ast.Attribute) and isinstance(stored_side.value, ast.Name)
                and isinstance(value, (ast.Name, ast.Constant))):
            return stored_side.value.id, stored_side.attr, value
    return None


def _after(view: FunctionView, branch: ast.If) -> list[ast.stmt]:
    """The statements of the function that follow the branch in its own block and the blocks around it."""
    found: list[ast.stmt] = []
    chain = [branch, *view.ancestors(branch)]
    for child, ancestor in zip(chain, chain[1:]):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(ancestor, name, None)
            if isinstance(block, list) and child in block:
                found += block[block.index(child) + 1:]
    return found


def _made_after(view: FunctionView, branch: ast.If, name: str) -> tuple[str, int] | None:
    """(model, line) of `name = Model.objects.create(...)` after the branch: the row a repeat then finds."""
    for statement in _after(view, branch):
        for node in ast.walk(statement):
            if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
                    and _a_make(node.value)):
                return node.value.func.value.value.id, node.lineno
    return None


def _a_make(value: ast.AST) -> bool:
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in MAKES
            and isinstance(value.func.value, ast.Attribute) and value.func.value.attr == "objects"
            and isinstance(value.func.value.value, ast.Name))


def _stores_after(view: FunctionView, branch: ast.If, owner: str, field: str, value: str) -> tuple[int, ...]:
    """The lines where the ways on from the branch store `value` as `owner.field`, one on each way (() when a
    way does not)."""
    return _stored_on_every_way(view, _after(view, branch), owner, field, value)


def _stored_on_every_way(view: FunctionView, statements: list[ast.stmt], owner: str, field: str, value: str) -> tuple[int, ...]:
    for statement in statements:
        if isinstance(statement, ast.If):
            here = _stored_on_every_way(view, statement.body, owner, field, value)
            there = _stored_on_every_way(view, statement.orelse, owner, field, value)
            if here and there:
                return tuple(sorted({*here, *there}))
        elif isinstance(statement, (ast.With, ast.AsyncWith, ast.Try)):
            lines = _stored_on_every_way(view, statement.body, owner, field, value)
            if lines:
                return lines
        elif isinstance(statement, (ast.For, ast.AsyncFor)):
            if _sets_from_a_dict(view, statement, owner, field, value) and stored(view, f"{owner}.{field}", statement):
                return (_setattr_line(statement),)
        elif _writes(view, statement, owner, field, value):
            return (statement.lineno,)
    return ()


def _setattr_line(loop: ast.For | ast.AsyncFor) -> int:
    return next((n.lineno for n in ast.walk(loop) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "setattr"), loop.lineno)


def _writes(view: FunctionView, statement: ast.stmt, owner: str, field: str, value: str) -> bool:
    """`owner.field = value` then saved, or `owner = Model.objects.create(field=value)` (also through
    `**fields` with `fields = {"field": value, ...}`)."""
    if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
        return False
    target = statement.targets[0]
    if isinstance(target, ast.Attribute) and view.segment(target) == f"{owner}.{field}":
        return view.segment(statement.value) == value and stored(view, f"{owner}.{field}", statement)
    if isinstance(target, ast.Name) and target.id == owner and _a_make(statement.value):
        for keyword in statement.value.keywords:
            if keyword.arg == field and view.segment(keyword.value) == value:
                return True
            if keyword.arg is None and isinstance(keyword.value, ast.Name) and _dict_holds(view, keyword.value.id, statement, field, value):
                return True
    return False


def _sets_from_a_dict(view: FunctionView, loop: ast.For | ast.AsyncFor, owner: str, field: str, value: str) -> bool:
    """`for key, value in fields.items(): setattr(owner, key, value)` with `fields` holding `field: value`."""
    iterated = loop.iter
    if not (isinstance(iterated, ast.Call) and isinstance(iterated.func, ast.Attribute) and iterated.func.attr == "items"
            and isinstance(iterated.func.value, ast.Name) and isinstance(loop.target, ast.Tuple) and len(loop.target.elts) == 2):
        return False
    key, item = (view.segment(e) for e in loop.target.elts)
    sets = any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "setattr" and len(n.args) == 3
        and view.segment(n.args[0]) == owner and view.segment(n.args[1]) == key and view.segment(n.args[2]) == item
        for statement in loop.body for n in ast.walk(statement)
    )
    return sets and _dict_holds(view, iterated.func.value.id, loop, field, value)


def _dict_holds(view: FunctionView, name: str, at: ast.AST, field: str, value: str) -> bool:
    return any(key == field and view.segment(held) == value for key, held in view.dict_written(name, at))
