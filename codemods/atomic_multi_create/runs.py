"""The database writes of one function and the runs of statements that hold them: the smallest
contiguous run of a block whose writes one pass can make (writes on exclusive paths are not paired;
writes in a loop body are run per iteration, or the whole loop with `loops = "whole"`)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..engine import facts
from ..engine.project import Project
from ..engine.source import one_line
from ..engine.view import EXITS, LOOPS, FunctionView

WRITES = frozenset({"db_create", "db_upsert", "db_save", "db_update", "db_delete"})


@dataclass
class Write:
    effect: facts.Effect
    node: ast.Call
    chain: frozenset[int]  # ids of the nodes from the call up to the function
    create: bool
    label: str  # for messages: "`Order.objects.create()` (line 12)"
    model: str = ""  # the class of the rows a create makes ("Order"), "" for other writes


@dataclass
class Run:
    block: list[ast.stmt]
    first: int
    last: int
    writes: list[Write]
    loop: ast.stmt | None = None  # wrapped per iteration of this loop
    whole_loop: bool = False  # a loop wrapped whole because the configuration asks for it
    statements: list[ast.stmt] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.statements = self.block[self.first : self.last + 1]


def writes_of(project: Project, view: FunctionView) -> list[Write]:
    """Every database write of the function, its creates told apart (a `.save()` of an instance built here
    counts as one); claims in `if` tests and the mark right after a send are left out."""
    new_instances = _new_instances(project, view)
    outermost: dict[tuple[int, int], ast.Call] = {}  # `filter(...).update()` starts where `filter(...)` does
    for call in (n for n in view.parents if isinstance(n, ast.Call)):
        key = (call.lineno, call.col_offset)
        if key not in outermost or (call.end_lineno, call.end_col_offset) > (outermost[key].end_lineno, outermost[key].end_col_offset):
            outermost[key] = call
    found = []
    for call in outermost.values():
        effect = view.effect(call)
        if effect is None or effect.kind not in WRITES or _in_test(view, call) or _marks_a_send(view, effect, call):
            continue
        create = _is_create(project, view, effect, new_instances)
        if create is None:
            continue
        label = f"`{one_line(effect.call, 60)}()` (line {effect.line})"
        model = effect.receiver.removesuffix(".objects").rsplit(".", 1)[-1] if create else ""
        if effect.kind == "db_save" and create:
            label = f"`{one_line(effect.call, 60)}()` of a new {new_instances[effect.receiver]} (line {effect.line})"
            model = new_instances[effect.receiver].rsplit(".", 1)[-1]
        found.append(Write(effect, call, frozenset(id(n) for n in [call, *view.ancestors(call)]), create, label, model))
    return sorted(found, key=lambda w: (w.effect.line, w.effect.column))


def _is_create(project: Project, view: FunctionView, effect: facts.Effect, new_instances: dict[str, str]) -> bool | None:
    """True for a create, False for another write, None for what is not an ORM write at all."""
    module = view.key.module
    if effect.kind == "db_create":
        if "." not in effect.receiver:
            symbol = project.resolve(module, effect.receiver) if effect.receiver else None
            if symbol is None or symbol.kind != "class" or project.model(symbol.module, symbol.name) is None:
                return None  # `serializer.create()`, `Factory.create()`: not an ORM manager
        elif effect.receiver.rsplit(".", 1)[-1][:1].isupper():
            return None  # `models.Q.create()`, `stripe.Charge.create()`: a class method, not a manager
        else:
            owner = effect.receiver.rsplit(".", 1)[0]
            symbol = project.resolve(module, owner)
            if symbol.kind == "class" and project.model(symbol.module, symbol.name) is None and not owner[:1].islower():
                return None
        return True
    return effect.kind == "db_save" and effect.receiver in new_instances


def _new_instances(project: Project, view: FunctionView) -> dict[str, str]:
    """Local names bound to a model constructed in the function: `entry = Entry(...)`."""
    found: dict[str, str] = {}
    for node in view.parents:
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
            continue
        callee = view.segment(node.value.func)
        if not callee or not callee.rsplit(".", 1)[-1][:1].isupper():
            continue
        symbol = project.resolve(view.key.module, callee)
        if symbol.kind in {"function", "module", "app"} or (symbol.kind == "class" and project.model(symbol.module, symbol.name) is None):
            continue
        found.update({t.id: callee.rsplit(".", 1)[-1] for t in node.targets if isinstance(t, ast.Name)})
    return found


def _in_test(view: FunctionView, call: ast.Call) -> bool:
    """`if not Host.objects.filter(pk=..., sent=False).update(sent=True): return` is a claim that guards
    what follows, not a write to pair with others."""
    node = call
    for parent in view.ancestors(call):
        if isinstance(parent, (ast.If, ast.While)) and parent.test is node:
            return True
        node = parent
    return False


def _marks_a_send(view: FunctionView, effect: facts.Effect, call: ast.Call) -> bool:
    """`Host.objects.filter(pk=host.pk).update(welcome_sent=True)` right after a statement that sends is the
    record that the message went out: it belongs with the send, which no transaction takes back."""
    if effect.kind != "db_update":
        return False
    while True:  # the effect's position is also the inner `filter(...)` call's: take the outermost
        attribute = view.parents.get(call)
        outer = view.parents.get(attribute) if isinstance(attribute, ast.Attribute) else None
        if not (isinstance(outer, ast.Call) and outer.func is attribute):
            break
        call = outer
    if call.args or len(call.keywords) != 1 or not (isinstance(call.keywords[0].value, ast.Constant) and call.keywords[0].value.value is True):
        return False
    where = view.block_of(view.statement_of(call))
    if where is None or where[2] == 0:
        return False
    before = where[1][where[2] - 1]  # the send itself, or a with/for/if block that holds it
    sends = [e.line for e in view.function.effects if e.kind == "send"]
    return any(before.lineno <= line <= (before.end_lineno or before.lineno) for line in sends)


# --- the runs ---------------------------------------------------------------------------------


class Planner:
    def __init__(self, view: FunctionView, whole_loops: bool):
        self.view, self.whole_loops = view, whole_loops

    def runs(self, block: list[ast.stmt], writes: list[Write], loop: ast.stmt | None = None) -> list[Run]:
        """The runs to wrap in one block: the smallest run over the statements whose writes can happen
        in one pass; a statement alone holding writes is looked into."""
        holding = [(k, _holding(s, writes)) for k, s in enumerate(block)]
        holding = [(k, ws) for k, ws in holding if ws]
        found: list[Run] = []
        segment: list[tuple[int, list[Write]]] = []
        for k, ws in holding:
            if not segment and _terminal(block[k], ws):
                found += self._segment(block, [(k, ws)], loop)  # its writes never reach the next statement
                continue
            segment.append((k, ws))
        return found + self._segment(block, segment, loop)

    def _segment(self, block, segment, loop) -> list[Run]:
        if not segment:
            return []
        if len(segment) >= 2:
            first, last = segment[0][0], segment[-1][0]
            ws = [w for _, group in segment for w in group]
            if not any(w.create for w in ws):
                return []
            while first > 0 and block[first - 1].lineno == block[first].lineno:
                first -= 1  # statements sharing a line (`a = 1; b.save()`) move together
            return [Run(block, first, last, ws, loop)]
        k, ws = segment[0]
        return self._within(block, k, ws, loop)

    def _within(self, block: list[ast.stmt], k: int, ws: list[Write], loop) -> list[Run]:
        stmt = block[k]
        whole = [Run(block, k, k, ws, loop)] if len(ws) >= 2 and any(w.create for w in ws) else []
        parts = [(label, sub, _holding_block(sub, ws)) for label, sub in sub_blocks(stmt)]
        if not parts:
            return whole  # a simple statement with two writes in it
        in_parts = {id(w) for _, _, pws in parts for w in pws}
        if any(id(w) not in in_parts for w in ws):
            return whole  # a write in the statement's header (`for x in M.objects.bulk_create(...)`)
        busy = [(label, sub, pws) for label, sub, pws in parts if pws]
        exclusive = isinstance(stmt, (ast.If, ast.Match)) or all(label == "handler" for label, _, _ in busy)
        if len(busy) >= 2 and not exclusive:
            return whole  # try body and finally, loop body and else: they may run in one pass
        found: list[Run] = []
        for label, sub, pws in busy:
            inner_loop = stmt if isinstance(stmt, LOOPS) and label == "body" else loop
            found += self.runs(sub, pws, inner_loop)
        if found and isinstance(stmt, LOOPS) and self.whole_loops:
            run = Run(block, k, k, ws, loop)
            run.whole_loop = True
            return [run]
        return found


def sub_blocks(stmt: ast.stmt) -> list[tuple[str, list[ast.stmt]]]:
    if isinstance(stmt, (ast.If, *LOOPS)):
        blocks = [("body", stmt.body), ("orelse", stmt.orelse)]
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        blocks = [("body", stmt.body)]
    elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
        blocks = [("body", stmt.body), *(("handler", h.body) for h in stmt.handlers), ("orelse", stmt.orelse), ("finalbody", stmt.finalbody)]
    elif isinstance(stmt, ast.Match):
        blocks = [("case", case.body) for case in stmt.cases]
    else:
        blocks = []
    return [(label, block) for label, block in blocks if block]


def _holding(stmt: ast.AST, writes: list[Write]) -> list[Write]:
    return [w for w in writes if id(stmt) in w.chain]


def _holding_block(block: list[ast.stmt], writes: list[Write]) -> list[Write]:
    ids = {id(s) for s in block}
    return [w for w in writes if ids & w.chain]


def _terminal(stmt: ast.stmt, ws: list[Write]) -> bool:
    """Its writes never reach the next statement: `return M.objects.create()`, or every branch that
    writes ends in return / raise / continue / break."""
    if isinstance(stmt, (ast.Return, ast.Raise)):
        return True
    if not isinstance(stmt, ast.If):
        return False
    busy = [sub for _, sub in sub_blocks(stmt) if _holding_block(sub, ws)]
    covered = {id(w) for sub in busy for w in _holding_block(sub, ws)}
    return bool(busy) and all(id(w) in covered for w in ws) and all(isinstance(sub[-1], EXITS) for sub in busy)
