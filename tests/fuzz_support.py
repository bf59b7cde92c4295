"""Helpers for tests/test_fuzz.py: a small Django + Celery project that generated code is put in,
hypothesis strategies that write task code, mutations of the golden inputs, and apply runs.

Nothing here knows a rule by name: the rules come from `engine.rules.all_rules()`, so a rule that
lands later is fuzzed without touching this file.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import shutil
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from hypothesis import strategies as st
from idem_fix.cli.formatting import restyle_changes
from idem_fix.cli.main import app
from idem_fix.codemods.acks_late_config.pin_test import FILE_NAME as PINNING_TEST
from idem_fix.codemods.engine.config import Config
from idem_fix.codemods.engine.rules import Options, all_rules
from idem_fix.codemods.engine.runner import run_rules, steps_for
from typer.testing import CliRunner

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "golden"
CASES = sorted(p for p in GOLDEN.glob("*/*") if (p / "before").is_dir())


def rule_names() -> list[str]:
    """Every registered rule, in the order `all_rules()` gives them (by name)."""
    return list(all_rules())


def case_options(case: Path) -> dict:
    return tomllib.loads((case / "case.toml").read_text()) if (case / "case.toml").is_file() else {}


# --------------------------------------------------------------------------------------------
# Files and runs


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` (minus caches), by relative posix path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".idem-fix-cache" not in p.parts
    }


def write_files(root: Path, files: dict[str, bytes | str]) -> Path:
    if root.exists():
        shutil.rmtree(root)
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return root


def compiles(data: bytes, name: str = "<fuzz>") -> str:
    """"" when `data` compiles, else the error."""
    try:
        compile(data, name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return ""


@contextlib.contextmanager
def chdir(path: Path):
    """contextlib.chdir, for Python 3.10 too (no monkeypatch: hypothesis tests cannot use fixtures per example)."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


@dataclass
class CliRun:
    exit_code: int
    output: str
    traceback: str = ""  # the uncaught exception, if the command crashed


def apply_cli(root: Path, rules: list[str], args: list[str] = ()) -> CliRun:
    """`idem-fix apply --rule R ... --no-cache -j 1 .` in `root`, in-process."""
    selected = [a for r in rules for a in ("--rule", r)]
    with chdir(root):
        result = CliRunner().invoke(app, ["apply", *selected, "--no-cache", "--jobs", "1", *args, "."])
    crash = ""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        crash = "".join(traceback.format_exception(*result.exc_info))
    return CliRun(result.exit_code, result.output, crash)


@dataclass
class EngineRun:
    changed: dict[str, bytes] = field(default_factory=dict)  # relative path -> new bytes
    errors: dict[str, str] = field(default_factory=dict)  # relative path -> why it was not rewritten
    planned: int = 0  # fixable findings
    applied: int = 0  # plans the transforms applied
    rules: set[str] = field(default_factory=set)  # the rules that changed something


def options_from_args(args: list[str]) -> Options:
    options = Options()
    for flag, attribute in (("--scope", "scope"), ("--flag-mode", "flag_mode"), ("--flag-store", "flag_store")):
        if flag in args:
            setattr(options, attribute, args[args.index(flag) + 1])
    options.unsafe_fixes = "--unsafe-fixes" in args
    return options


def apply_engine(root: Path, rules: list[str], args: list[str] = (), write: bool = True) -> EngineRun:
    """The engine in-process (no cache), as `apply` runs it; writes the changes."""
    known = all_rules()
    selected = [known[name] for name in rules]
    with chdir(root):
        options = options_from_args(list(args))
        run = run_rules([Path(".")], steps_for(selected, options.unsafe_fixes), options, Config.find(Path(".")), use_cache=False, jobs=1)
        changes = run.changes
        restyle_changes([c for c in changes if c.changed], Path("."), Path("."))  # in the project's style, as apply does
    result = EngineRun(planned=sum(1 for f in run.findings if f.written_by(run.options.unsafe_fixes)))
    for change in changes:
        name = Path(os.path.relpath(change.path.resolve(), root.resolve())).as_posix()
        if change.error:
            result.errors[name] = change.error
        elif change.changed:
            result.changed[name] = change.new
            if write:
                change.path.write_bytes(change.new)
        result.applied += sum(len(plans) for plans in change.applied.values())
        if change.changed:
            result.rules.update(rule for rule, plans in change.applied.items() if plans)
    return result


def problems_after_apply(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """Files a run created (other than the test acks-late-config pins its settings with), deleted, or
    changed into something that does not compile."""
    problems = [f"{name}: deleted" for name in before if name not in after]
    problems += [f"{name}: created" for name in after if name not in before and Path(name).name != PINNING_TEST]
    for name, data in after.items():
        if name.endswith(".py") and before.get(name) != data:
            error = compiles(data, name)
            if error:
                problems.append(f"{name}: rewritten into code that does not compile: {error}")
    return problems


def unified(old: bytes, new: bytes, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.decode("utf-8", "replace").splitlines(keepends=True),
            new.decode("utf-8", "replace").splitlines(keepends=True),
            f"a/{name}",
            f"b/{name}",
        )
    )


def expand_leading_tabs(files: dict[str, bytes], width: int = 4) -> dict[str, bytes]:
    """Leading whitespace with tabs expanded (for comparing layouts that line up the same)."""
    out = {}
    for name, data in files.items():
        lines = []
        for line in data.splitlines(keepends=True):
            body = line.lstrip(b" \t")
            lines.append(line[: len(line) - len(body)].expandtabs(width) + body)
        out[name] = b"".join(lines)
    return out


def changed_names(old: dict[str, bytes], new: dict[str, bytes]) -> list[str]:
    return sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n))


# --------------------------------------------------------------------------------------------
# The project generated code lives in

MODELS = '''\
from django.conf import settings
from django.db import models


class Account(models.Model):
    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    email = models.EmailField()
    welcome_sent = models.BooleanField(default=False)


class Payout(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="payouts")
    period = models.CharField(max_length=7)
    amount = models.IntegerField()
    created_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "period"], name="payout_account_period_uniq")]


class Order(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="orders")
    status = models.CharField(max_length=16, default="NEW")
    reference = models.CharField(max_length=32, unique=True)
    receipt_sent = models.BooleanField(default=False)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=32)
    quantity = models.IntegerField(default=1)

    class Meta:
        unique_together = [("order", "sku")]


class Reservation(models.Model):
    room = models.CharField(max_length=10)
    booking_ref = models.CharField(max_length=40, blank=True, default="")
    lock_code = models.CharField(max_length=40, blank=True, default="")


class AuditLog(models.Model):
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
'''

CLIENT = '''\
"""Thin wrapper around a partner API."""
import requests

BASE_URL = "https://partner.example.com"


def create_booking(data):
    response = requests.post(f"{BASE_URL}/bookings", json=data, timeout=10)
    response.raise_for_status()
    return response.json()


def set_lock_code(room, code):
    return requests.put(f"{BASE_URL}/locks/{room}", json={"code": code}, timeout=10).json()
'''

SERVICES = '''\
from .models import Account, Payout


class PayoutService:
    def __init__(self, account):
        self.account = account

    def pay(self, period, amount):
        return Payout.objects.create(account=self.account, period=period, amount=amount)


def record(order, sku):
    order.lines.create(sku=sku)
    return order
'''

PRELUDE_IMPORTS = [
    "from celery import shared_task",
    "from django.core.mail import send_mail",
    "from django.db import IntegrityError",
    "from django.utils import timezone",
    "import uuid",
    "import requests",
    "",
    "from . import partner_client",
    "from .models import Account, AuditLog, Order, OrderLine, Payout, Reservation",
    "from .services import PayoutService, record",
]
TRANSACTION_IMPORTS = ["", "from django.db import transaction", "from django.db import transaction as tx", "from django.db.transaction import atomic"]
HEADS = ["", '"""Tasks of the shop."""\n', "from __future__ import annotations\n", '"""Tasks."""\nfrom __future__ import annotations\n', "# -*- coding: utf-8 -*-\n"]
PARAMS = "account_id, order_id, reservation_id, period, amount, sku, skus, rows, data"


def project_files(tasks: str | bytes, extra: dict[str, str] | None = None) -> dict[str, bytes | str]:
    """The `shop` app with generated `tasks.py` (and any extra modules)."""
    return {
        "shop/__init__.py": "",
        "shop/models.py": MODELS,
        "shop/partner_client.py": CLIENT,
        "shop/services.py": SERVICES,
        "shop/tasks.py": tasks,
        **(extra or {}),
    }


# --------------------------------------------------------------------------------------------
# Statements in the vocabulary the rules look at: creates, sends, external calls, saves, guards.
# A statement is ("line", text) or ("block", header, [statements], [(clause header, [statements])]).

FETCHES = [
    "account = Account.objects.get(pk=account_id)",
    "order = Order.objects.get(pk=order_id)",
    'order = Order.objects.select_related("account").get(pk=order_id)',
    "reservation = Reservation.objects.get(pk=reservation_id)",
]
WRITES = [
    "payout = Payout.objects.create(account=account, period=period, amount=amount)",
    "Payout.objects.create(account_id=account_id, period=period, amount=amount)",
    "Payout.objects.create(account=account, period=period, amount=amount, created_at=timezone.now())",
    "payout = Payout.objects.create(account=account, period=timezone.now().strftime('%Y-%m'), amount=amount)",
    'order = Order.objects.create(account=account, status="NEW", reference=data["ref"])',
    'order = Order.objects.create(account_id=account_id, reference=str(uuid.uuid4()))',
    "OrderLine.objects.create(order=order, sku=sku)",
    "line = OrderLine.objects.create(order=order, sku=sku, quantity=2)",
    "order.lines.create(sku=sku)",
    "account.payouts.create(period=period, amount=amount)",
    'AuditLog.objects.create(message="ran")',
    "Payout.objects.create(**data)",
    "payouts = [Payout.objects.create(account=account, period=p, amount=amount) for p in rows]",
    "print(Payout.objects.create(account=account, period=period, amount=amount).pk)",
    "payout: Payout = Payout.objects.create(account=account, period=period, amount=amount)",
    "self_payout = PayoutService(account).pay(period, amount)",
    "record(order, sku)",
    "Payout.objects.get_or_create(account=account, period=period, defaults={'amount': amount})",
    'Order.objects.filter(pk=order_id).update(status="DONE")',
    'order.status = "SENT"',
    "order.save()",
    'order.save(update_fields=["status"])',
    "order.lines.filter(quantity=0).delete()",
    "OrderLine.objects.bulk_create([OrderLine(order=order, sku=s) for s in skus])",
    "reservation.save()",
    "payout = Payout.objects.create(\n    account=account,  # whose\n    period=period,\n    amount=amount,\n)",
    "Payout.objects.create(account=account,\n                      period=period, amount=amount)",
]
SENDS = [
    'send_mail("Welcome", "Hello", "noreply@example.com", [account.email])',
    'send_mail("Receipt", f"Order {order.pk}", "shop@example.com", [order.account.email])',
    "account.owner.set_password(data['password'])",
    'response = partner_client.create_booking(data={"room": reservation.room})',
    'reservation.booking_ref = partner_client.create_booking(data={"room": reservation.room})["ref"]',
    'partner_client.set_lock_code(reservation.room, "1234")',
    'requests.post("https://hooks.example.com/notify", json={"order": order_id}, timeout=5)',
    "notify.delay(order_id)",
    "notify.apply_async(args=[order_id], countdown=10)",
]
OTHER = [
    "pass",
    "x = 1; y = x + 1",
    "total = amount * 2",
    'logger = __import__("logging").getLogger(__name__)',
    "assert amount is not None",
    '"""A string statement."""',
    "...",
    "del data",
    "global COUNTER",
]
# Whole recipes the rules fix (a fetch, then a send to it; an external call whose id is saved; two writes).
RECIPES = [
    'account = Account.objects.get(pk=account_id)\nsend_mail("Welcome", "Hello", "noreply@example.com", [account.email])',
    'order = Order.objects.get(pk=order_id)\nif order.status == "PAID":\n    send_mail("Receipt", "Thanks", "shop@example.com", [order.account.email])',
    (
        'reservation = Reservation.objects.get(pk=reservation_id)\n'
        'response = partner_client.create_booking(data={"room": reservation.room})\n'
        'reservation.booking_ref = response["ref"]\nreservation.save()'
    ),
    (
        'reservation = Reservation.objects.get(pk=reservation_id)\n'
        'reservation.lock_code = partner_client.set_lock_code(reservation.room, "1234")["id"]\n'
        'reservation.save(update_fields=["lock_code"])'
    ),
    'order = Order.objects.create(account_id=account_id, status="NEW", reference=data["ref"])\nOrderLine.objects.create(order=order, sku=sku)',
    'for sku in skus:\n    OrderLine.objects.create(order=order, sku=sku)\n    Order.objects.filter(pk=order.pk).update(status="OPEN")',
]
IGNORES = [
    "Payout.objects.create(account=account, period=period, amount=amount)  # idem-fix: ignore[*]",
    "# idem-fix: ignore[*]",
]
EXITS = ["return", "return order", "return payout.pk", 'raise ValueError("stop")']
LOOP_EXITS = ["continue", "break"]
CONDITIONS = [
    "amount",
    "not order.receipt_sent",
    "account.welcome_sent",
    "not Payout.objects.filter(account=account, period=period).exists()",
    "Payout.objects.filter(account=account, period=period).exists()",
    "reservation.booking_ref",
    "data.get('force')",
    "True",
]
LOOPS = ["for sku in skus:", "for row in rows:", "for p in rows:", "while False:"]
WITHS = ["with transaction.atomic():", "with tx.atomic():", "with atomic():", "with open(data) as handle:"]
COMMENTS = ["# a comment", "#", "# ünïcödé ✓", "# TODO: make this idempotent", "#!shebang-ish"]


def _line(texts: list[str]) -> st.SearchStrategy:
    return st.sampled_from(texts).map(lambda text: ("line", text))


def statements(depth: int = 2, in_loop: bool = False) -> st.SearchStrategy:
    """A list of statements, nested up to `depth` blocks."""
    leaves = [
        _line(FETCHES), _line(WRITES), _line(WRITES), _line(SENDS), _line(OTHER), _line(EXITS), _line(RECIPES), _line(RECIPES),
        _line(COMMENTS).map(lambda s: ("comment", s[1])),
    ]
    if in_loop:
        leaves.append(_line(LOOP_EXITS))
    leaf = st.one_of(*leaves) | _line(IGNORES)
    if depth <= 0:
        return st.lists(leaf, min_size=1, max_size=3)
    inner = st.deferred(lambda: statements(depth - 1, in_loop))
    loop_inner = st.deferred(lambda: statements(depth - 1, True))
    blocks = st.one_of(
        st.builds(lambda c, b, e: ("block", f"if {c}:", b, [("else:", e)] if e else []), st.sampled_from(CONDITIONS), inner, st.none() | inner),
        st.builds(lambda c, b: ("block", f"elif_chain {c}", b, [(f"elif not {c}:", b)]), st.sampled_from(CONDITIONS), inner),
        st.builds(lambda h, b: ("block", h, b, []), st.sampled_from(LOOPS), loop_inner),
        st.builds(lambda h, b: ("block", h, b, []), st.sampled_from(WITHS), inner),
        st.builds(
            lambda b, exc, h, fin: ("block", "try:", b, [(f"except {exc}:", h)] + ([("finally:", fin)] if fin else [])),
            inner, st.sampled_from(["IntegrityError", "Exception", "(KeyError, IntegrityError)", "IntegrityError as error"]),
            inner, st.none() | inner,
        ),
        st.builds(lambda b: ("block", "def helper():", b, []), st.deferred(lambda: statements(depth - 1, False))),
    )
    return st.lists(st.one_of(leaf, leaf, blocks), min_size=1, max_size=5)


@dataclass(frozen=True)
class Style:
    indent: str = "    "
    newline: str = "\n"
    trailing_comments: bool = False
    blank_lines: bool = False


styles = st.builds(
    Style,
    indent=st.sampled_from(["    ", "    ", "\t", "  ", "        "]),
    newline=st.sampled_from(["\n", "\n", "\r\n"]),
    trailing_comments=st.booleans(),
    blank_lines=st.booleans(),
)


def _reindent(line: str, indent: str) -> str:
    """A recipe's own four-space indentation in the style's unit."""
    stripped = line.lstrip(" ")
    spaces = len(line) - len(stripped)
    return indent * (spaces // 4) + " " * (spaces % 4) + stripped


def render(body: list, style: Style, level: int) -> list[str]:
    lines: list[str] = []
    pad = style.indent * level
    for number, statement in enumerate(body):
        if style.blank_lines and number % 3 == 2:
            lines.append("")
        kind = statement[0]
        if kind in ("line", "comment"):
            text = statement[1]
            parts = text.split("\n")
            if style.trailing_comments and kind == "line" and len(parts) == 1 and "#" not in text:
                parts[0] += "  # note"
            lines.extend(pad + _reindent(part, style.indent) for part in parts)
            continue
        _, header, inner, clauses = statement
        if header.startswith("elif_chain "):
            header = f"if {header[len('elif_chain '):]}:"
        lines.append(pad + header)
        lines.extend(render(inner, style, level + 1))
        for clause, clause_body in clauses:
            lines.append(pad + clause)
            lines.extend(render(clause_body, style, level + 1))
    return lines


def _has_real_statement(body: list) -> bool:
    return any(s[0] == "line" or s[0] == "block" for s in body)


def ensure_body(body: list) -> list:
    """A block of comments only is no block: add `pass`."""
    fixed = []
    for statement in body:
        if statement[0] == "block":
            _, header, inner, clauses = statement
            statement = ("block", header, ensure_body(inner), [(c, ensure_body(b)) for c, b in clauses])
        fixed.append(statement)
    if not _has_real_statement(fixed):
        fixed.append(("line", "pass"))
    return fixed


DECORATORS = [
    ["@shared_task"],
    ["@shared_task(bind=True, max_retries=3)"],
    ["@shared_task()", "@some_other_decorator"],
    [],  # a plain helper (reached only when a task calls it, or with --scope all)
]


SHAPES = ["function", "function", "function", "feature flag", "task class", "app task"]


@st.composite
def task_module(draw) -> tuple[str, Style]:
    """A tasks.py: a prelude, then one to three task functions with generated bodies."""
    style = draw(styles)
    head = draw(st.sampled_from(HEADS))
    imports = list(PRELUDE_IMPORTS)
    extra_import = draw(st.sampled_from(TRANSACTION_IMPORTS))
    if extra_import:
        imports.insert(draw(st.integers(0, len(imports))), extra_import)
    lines = [*head.splitlines(), *imports, "from celery import Celery, Task", "", 'app = Celery("shop")', "FEATURE = True", ""]
    lines += ["", "def some_other_decorator(f):", f"{style.indent}return f", ""]
    lines += ["", "@shared_task", "def notify(order_id):", f"{style.indent}return order_id", ""]
    count = draw(st.integers(1, 2))
    for number in range(count):
        decorators = draw(st.sampled_from(DECORATORS))
        bound = any("bind=True" in d for d in decorators)
        is_async = draw(st.integers(0, 9)) == 0
        name = f"task_{number}"
        lead = draw(st.lists(st.sampled_from(RECIPES).map(lambda text: ("line", text)), max_size=1))
        body = ensure_body(lead + draw(statements()))
        shape = draw(st.sampled_from(SHAPES))
        if shape == "task class":  # a Task subclass: the body is its run()
            lines += ["", f"class Task{number}(Task):", f"{style.indent}def run(self, {PARAMS}):"]
            lines += render(body, style, 2)
        else:
            if shape == "app task":
                decorators = ["@app.task(bind=True)"]
                bound = True
            pad = style.indent if shape == "feature flag" else ""
            lines += ["", "if FEATURE:"] if shape == "feature flag" else [""]
            lines += [pad + d for d in decorators]
            lines += [f"{pad}{'async ' if is_async else ''}def {name}({'self, ' if bound else ''}{PARAMS}):"]
            lines += render(body, style, 2 if shape == "feature flag" else 1)
        lines.append("")
    if draw(st.booleans()):
        lines += ["", "@shared_task", "def caller(order_id):", f"{style.indent}return task_0(None, order_id, None, None, None, None, [], [], {{}})", ""]
    text = style.newline.join(lines) + style.newline
    if draw(st.integers(0, 9)) == 0:
        text = text.rstrip("\r\n")  # no final newline
    return text, style


# --------------------------------------------------------------------------------------------
# hypothesmith: arbitrary Python, put inside task bodies or after the prelude


def as_task_body(generated: str, decorator: str = "@shared_task") -> str | None:
    """The statements of `generated` as the body of a task function (via libcst, so that any
    indentation style of the generated code is kept consistent); None if libcst cannot parse it."""
    try:
        module = cst.parse_module(generated)
    except Exception:  # noqa: BLE001 - hypothesmith occasionally writes code libcst rejects
        return None
    body = [s for s in module.body] or [cst.SimpleStatementLine([cst.Pass()])]
    function = cst.FunctionDef(
        name=cst.Name("generated_task"),
        params=cst.parse_expression(f"lambda {PARAMS}: 0").params,
        body=cst.IndentedBlock(body=body),
        decorators=[cst.Decorator(cst.parse_expression(decorator[1:]))],
    )
    prelude = cst.parse_module("\n".join(PRELUDE_IMPORTS) + "\n\n\n")
    return prelude.with_changes(body=[*prelude.body, function]).code


def insert_statements(source: bytes, generated: str, where: int) -> bytes | None:
    """`generated`'s statements put into one function body of `source` (the `where`-th function,
    modulo their number; at position `where` modulo the body's length). None when either does not
    parse or `source` has no function."""
    try:
        module = cst.parse_module(source)
        extra = list(cst.parse_module(generated).body)
    except Exception:  # noqa: BLE001 - hypothesmith occasionally writes code libcst rejects
        return None
    if not extra:
        return None

    class Count(cst.CSTVisitor):
        functions = 0

        def visit_FunctionDef(self, node):
            if isinstance(node.body, cst.IndentedBlock):
                self.functions += 1

    counter = Count()
    module.visit(counter)
    if not counter.functions:
        return None
    chosen = where % counter.functions

    class Insert(cst.CSTTransformer):
        seen = -1

        def visit_FunctionDef(self, node):
            if isinstance(node.body, cst.IndentedBlock):
                self.seen += 1
                node_index[node] = self.seen

        def leave_FunctionDef(self, original, updated):
            if node_index.get(original) != chosen:
                return updated
            body = list(updated.body.body)
            at = where % (len(body) + 1)
            return updated.with_changes(body=updated.body.with_changes(body=body[:at] + extra + body[at:]))

    node_index: dict = {}
    return module.visit(Insert()).bytes


# --------------------------------------------------------------------------------------------
# Mutations of golden inputs


def _retab(data: bytes) -> bytes:
    """Leading runs of four spaces become tabs."""
    out = []
    for line in data.splitlines(keepends=True):
        stripped = line.lstrip(b" ")
        spaces = len(line) - len(stripped)
        out.append(b"\t" * (spaces // 4) + b" " * (spaces % 4) + stripped)
    return b"".join(out)


def _two_spaces(data: bytes) -> bytes:
    out = []
    for line in data.splitlines(keepends=True):
        stripped = line.lstrip(b" ")
        spaces = len(line) - len(stripped)
        out.append(b" " * (spaces // 2) + stripped if spaces % 4 == 0 else line)
    return b"".join(out)


def _wrap_in_if_true(data: bytes) -> bytes:
    """Every top-level function and class inside `if True:` (the way feature-flag blocks hold tasks)."""
    try:
        module = cst.parse_module(data)
    except Exception:  # noqa: BLE001
        return data
    body = []
    for statement in module.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            statement = cst.If(
                test=cst.Name("True"),
                body=cst.IndentedBlock([statement.with_changes(leading_lines=[])]),
                leading_lines=statement.leading_lines,
            )
        body.append(statement)
    return module.with_changes(body=body).bytes


def _comment_before_defs(data: bytes) -> bytes:
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    return b"".join(
        b"# fuzz: a comment line" + newline + line if line.lstrip().startswith((b"def ", b"async def ", b"@")) and not line.startswith((b" ", b"\t")) else line
        for line in data.splitlines(keepends=True)
    )


def _trailing_blank_and_comment(data: bytes) -> bytes:
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    if data and not data.endswith(b"\n"):
        return data
    return data + newline + b"# end of file" + newline


# Mutations that preserve the meaning of the code. For the case's own rule, the result of
# mutate(before) must be mutate(after) (the golden answer, mutated the same way).
MUTATIONS = {
    "crlf": lambda data: data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
    "bom": lambda data: data if data.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf" + data,
    "tabs": _retab,
    "two_spaces": _two_spaces,
    "if_true": _wrap_in_if_true,
    "comment_before_defs": _comment_before_defs,
    "trailing_comment": _trailing_blank_and_comment,
}


# Mutations of indentation: a project that formats with black or ruff has its formatter's layout, and the
# lines a rule rewrites come back in that layout, so these are no meaning-preserving change for it.
LAYOUT_MUTATIONS = frozenset({"tabs", "two_spaces"})


def mutations_for(case: Path) -> list[str]:
    """The mutations a golden case is checked under: all of them, but for a case whose project configures a
    formatter, those that leave its indentation alone."""
    pyproject = case / "before" / "pyproject.toml"
    formatted = pyproject.is_file() and any(table in pyproject.read_text() for table in ("[tool.black]", "[tool.ruff"))
    return sorted(m for m in MUTATIONS if not (formatted and m in LAYOUT_MUTATIONS))


def mutate_tree(files: dict[str, bytes], mutation: str) -> dict[str, bytes]:
    """`mutation` applied to every .py file (other files as they are); a file the mutation would
    break (it no longer compiles) is kept as it was."""
    out = {}
    for name, data in files.items():
        if name.endswith(".py") and data.strip():
            new = MUTATIONS[mutation](data)
            out[name] = new if not compiles(data) and not compiles(new) else data
        else:
            out[name] = data
    return out
