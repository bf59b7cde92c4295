"""Property tests and fuzzing over every registered rule (`engine.rules.all_rules()`, so a rule that
lands later is covered without touching this file).

How to run:

    python -m pytest tests/test_fuzz.py                  # normal run: a few hundred examples, derandomized (CI)
    python -m pytest -m slow tests/test_fuzz.py          # the long fuzz: thousands of examples, new ones each run
    IDEM_FIX_FUZZ_SCALE=0.1 python -m pytest -m slow tests/test_fuzz.py   # shorter: scales the example counts
    python -m pytest -m slow tests/test_fuzz.py --hypothesis-show-statistics   # also hypothesis's statistics

The `slow` marker is registered in pyproject.toml and excluded by default (`addopts = -m 'not slow'`).
A failure prints the falsifying example (the generated source and the apply output); in the slow
run hypothesis shrinks it first, keeps it in .hypothesis/ and replays it first on the next run.

What is checked, with every registered rule applied in one run (`idem-fix apply --rule A --rule B ...`;
in the hypothesis tests the rules come in a random order, as the --rule options can give them):
  - the command does not crash: exit code 0, or 1 with a reason printed; never a traceback; no rule
    raises (the engine reports that as "<rule> failed on this file") or writes code that would not
    compile (reported as "would not compile") when the input compiled;
  - every file it changed still compiles, and it creates or deletes no file;
  - a second apply changes nothing;
  - the files are the same as one apply per rule, one after the other (what `idem-fix pr` commits).

The inputs:
  1. every golden case's before/ tree (all rules, not only the case's own);
  2. task modules written from the vocabulary the rules look at (creates, sends, external calls,
     saves, guards, loops, atomic blocks, try/except IntegrityError, ignore comments), in random
     nesting, task shapes (@shared_task, bound, @app.task, Task subclasses' run(), tasks inside
     `if FEATURE:`, async, plain helpers), indentation (spaces, tabs, two spaces), line endings (LF,
     CRLF), encodings (UTF-8, BOM, latin-1 cookie) and layout, in a small `shop` app with models, a
     partner client and a service module (tests/fuzz_support.py);
  3. hypothesmith programs (`from_grammar()`, `from_node()`): as the body of a task, appended to a
     tasks module after its imports, or inserted into a generated task;
  4. golden before/ trees mutated (CRLF, BOM, tabs, two-space indent, tasks wrapped in `if True:`,
     comment lines, a trailing comment) with generated statements inserted into their functions;
  5. metamorphic: for a case's own rule, a meaning-preserving mutation of before/ must give the same
     mutation of after/ (the golden answer), byte for byte.

Bugs it found and that were fixed keep a regression test (a minimal reproducer) at the end of the file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import fuzz_support as fs
import hypothesmith
import pytest
from hypothesis import (
    HealthCheck,
    Phase,
    currently_in_test_context,
    given,
    note,
    settings,
)
from hypothesis import strategies as st

# hypothesmith writes code like `0()`: compiling it warns, which is not what these tests are about.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

SCALE = float(os.environ.get("IDEM_FIX_FUZZ_SCALE", "1"))


def _examples(count: int) -> int:
    return max(1, int(count * SCALE))


HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
# The normal run is derandomized (the same examples every time: CI never flakes), keeps no example
# database and does not shrink (an example takes ~0.1 s, shrinking one can take minutes; the
# failure still prints the whole input).
NORMAL = settings(
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate, Phase.target),
    print_blob=True,
    suppress_health_check=HEALTH,
)
# The slow run: new examples each time, shrunk, failures kept in .hypothesis/ and replayed first.
SLOW = settings(deadline=None, print_blob=True, suppress_health_check=HEALTH)

RULES = fs.rule_names()
RUN_ARGS = [[], [], ["--unsafe-fixes"], ["--scope", "all"], ["--flag-mode", "mark-after", "--unsafe-fixes"], ["--flag-store", "cache", "--scope", "all"]]
PRELUDE = "\n".join(fs.PRELUDE_IMPORTS) + "\n\n\n"


# The project the cross-rule regression tests at the end use.
FLAG_RULES = ["atomic-multi-create", "sent-flag"]
FLAG_TASKS = PRELUDE + (
    "@shared_task\n"
    "def welcome(account_id):\n"
    "    account = Account.objects.get(pk=account_id)\n"
    '    send_mail("Welcome", "Hello", None, [account.email])\n'
    '    AuditLog.objects.create(message="welcomed")\n'
)
UNSAFE = ["--unsafe-fixes"]  # the probes compare what the rules write, guesses included
FIELD = ["--flag-store", "field", *UNSAFE]  # the per-object flag: its claim and mark are writes atomic-multi-create sees
MARK_AFTER = ["--flag-mode", "mark-after", *FIELD]


def _together_and_apart(tasks: str, rules: list[str]) -> tuple[fs.CliRun, dict, dict]:
    """`tasks` in the fuzz project: (the run, the files) of one apply with `rules`, and the files
    of one apply per rule."""
    with tempfile.TemporaryDirectory(prefix="idem-fix-probe-") as folder:
        together = fs.write_files(Path(folder) / "together", fs.project_files(tasks))
        run = fs.apply_cli(together, rules, UNSAFE)
        apart = fs.write_files(Path(folder) / "apart", fs.project_files(tasks))
        for rule in rules:
            fs.apply_engine(apart, [rule], UNSAFE)
        return run, fs.tree(together), fs.tree(apart)


# --------------------------------------------------------------------------------------------
# The properties


def _note(text: str) -> None:
    """hypothesis.note inside a hypothesis example (printed with the falsifying example), else nothing."""
    if currently_in_test_context():
        note(text)


def _project(files: dict) -> tuple[tempfile.TemporaryDirectory, Path]:
    holder = tempfile.TemporaryDirectory(prefix="idem-fix-fuzz-")
    return holder, fs.write_files(Path(holder.name) / "project", files)


def check_apply_twice(root: Path, args: list[str] = (), order: list[str] | None = None) -> fs.CliRun:
    """Apply every rule (in `order`, default: as all_rules() lists them) to `root` through the CLI
    (in-process), then check it as the module docstring says."""
    order = list(order or RULES)
    before = fs.tree(root)
    run = fs.apply_cli(root, order, list(args))
    _note(f"rules: {order}, args: {list(args)}\napply output:\n{run.output}")
    assert not run.traceback, f"idem-fix apply crashed:\n{run.traceback}"
    assert "Traceback" not in run.output, run.output
    assert run.exit_code in (0, 1), f"exit code {run.exit_code}:\n{run.output}"
    if run.exit_code == 1:
        assert "error:" in run.output or "could not" in run.output, f"exit 1 without a reason:\n{run.output}"
    # A rule that raises costs one file, reported, not the run (edits.rewrite_file): still a rule bug.
    assert " failed on this file (" not in run.output, f"a rule raised:\n{run.output}"
    if all(not fs.compiles(data, name) for name, data in before.items() if name.endswith(".py")):
        assert "would not compile" not in run.output, f"a rule wrote code that does not compile:\n{run.output}"
    after = fs.tree(root)
    problems = fs.problems_after_apply(before, after)
    assert not problems, "\n".join(problems) + f"\n--- output ---\n{run.output}"

    # One apply per rule, in the same order (skipped when nothing changed: each rule would then see
    # the input the apply with every rule saw, and change nothing either).
    apart = after if after == before else one_rule_at_a_time(before, order, args)

    again = fs.apply_engine(root, order, list(args), write=False)
    assert not again.changed, (
        f"a second apply would change {sorted(again.changed)}:\n"
        + "\n".join(fs.unified(after[name], again.changed[name], name) for name in sorted(again.changed))
        + f"\n--- first run ---\n{run.output}"
    )

    differing = fs.changed_names(apart, after)
    assert not differing, (
        f"one apply with every rule ({', '.join(order)}) gives other files than one apply per rule "
        "(the rules of one apply run on each other's output, re-indexed, so they must agree); "
        "a/ one rule at a time, b/ all at once:\n"
        + "\n".join(fs.unified(apart.get(n, b""), after.get(n, b""), n) for n in differing)
        + f"\n--- the run with every rule ---\n{run.output}"
    )
    return run


def one_rule_at_a_time(before: dict[str, bytes], order: list[str], args) -> dict[str, bytes]:
    """The files after one apply per rule (engine, in-process)."""
    holder, root = _project(before)
    with holder:
        for rule in order:
            fs.apply_engine(root, [rule], list(args))
        return fs.tree(root)


# --------------------------------------------------------------------------------------------
# 1. Every golden case, all rules at once


@pytest.mark.parametrize("case", fs.CASES, ids=[f"{c.parent.name}/{c.name}" for c in fs.CASES])
def test_all_rules_at_once_on_golden_case(case: Path, tmp_path: Path) -> None:
    root = fs.write_files(tmp_path / "project", fs.tree(case / "before"))
    check_apply_twice(root, fs.case_options(case).get("args", []))


def test_every_rule_is_fuzzed() -> None:
    """The fuzz runs take the rules from all_rules(); make sure that is not empty by accident."""
    assert RULES and len(RULES) == len(set(RULES))


# --------------------------------------------------------------------------------------------
# 2. Task modules from the rules' vocabulary


ORDERS = st.permutations(RULES)  # `apply` runs the rules in the order of the --rule options


ENCODINGS = st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1"])


def _generated_tasks(module: tuple[str, fs.Style], args: list[str], encoding: str, order: list[str]) -> None:
    text, style = module
    if encoding == "latin-1":  # with its cookie on the first line, and a comment only latin-1 can read
        text = f"# -*- coding: latin-1 -*-{style.newline}# caf\u00e9 cr\u00e8me{style.newline}{text}"
    data = text.encode(encoding, errors="replace")
    note(f"style: {style}, encoding: {encoding}")
    holder, root = _project(fs.project_files(data))
    with holder:
        check_apply_twice(root, args, order)


@settings(NORMAL, max_examples=_examples(100))
@given(module=fs.task_module(), args=st.sampled_from(RUN_ARGS), encoding=ENCODINGS, order=ORDERS)
def test_generated_tasks(module, args, encoding, order) -> None:
    _generated_tasks(module, args, encoding, order)


@pytest.mark.slow
@settings(SLOW, max_examples=_examples(2500))
@given(module=fs.task_module(), args=st.sampled_from(RUN_ARGS), encoding=ENCODINGS, order=ORDERS)
def test_generated_tasks_slow(module, args, encoding, order) -> None:
    _generated_tasks(module, args, encoding, order)


# --------------------------------------------------------------------------------------------
# 3. hypothesmith programs

GRAMMAR = hypothesmith.from_grammar()  # built once: each from_grammar() call compiles a Lark grammar (~1 s)
PYTHON = st.one_of(GRAMMAR, hypothesmith.from_node())
PLACES = st.sampled_from(["task body", "bound task body", "after prelude", "into generated task"])


def _hypothesmith(generated: str, place: str, host: tuple[str, fs.Style], where: int, args: list[str], order) -> None:
    if place == "task body":
        tasks = fs.as_task_body(generated)
    elif place == "bound task body":
        tasks = fs.as_task_body(generated, "@shared_task(bind=True)")
    elif place == "into generated task":
        inserted = fs.insert_statements(host[0].encode(), generated, where)
        tasks = inserted.decode("utf-8") if inserted is not None else None
    else:
        tasks = None
    if tasks is None:  # the place asked for, or libcst could not read it: after the prelude, as text
        tasks = PRELUDE + generated
    note(f"tasks.py:\n{tasks}")
    holder, root = _project(fs.project_files(tasks))
    with holder:
        check_apply_twice(root, args, order)


@settings(NORMAL, max_examples=_examples(35))
@given(generated=PYTHON, place=PLACES, host=fs.task_module(), where=st.integers(0, 20), args=st.sampled_from(RUN_ARGS), order=ORDERS)
def test_hypothesmith_programs(generated, place, host, where, args, order) -> None:
    _hypothesmith(generated, place, host, where, args, order)


@pytest.mark.slow
@settings(SLOW, max_examples=_examples(1000))
@given(generated=PYTHON, place=PLACES, host=fs.task_module(), where=st.integers(0, 20), args=st.sampled_from(RUN_ARGS), order=ORDERS)
def test_hypothesmith_programs_slow(generated, place, host, where, args, order) -> None:
    _hypothesmith(generated, place, host, where, args, order)


# --------------------------------------------------------------------------------------------
# 4. Golden inputs, mutated, with generated statements inserted


@st.composite
def mutated_golden(draw):
    case = draw(st.sampled_from(fs.CASES))
    files = fs.tree(case / "before")
    for mutation in draw(st.lists(st.sampled_from(sorted(fs.MUTATIONS)), max_size=3, unique=True)):
        files = fs.mutate_tree(files, mutation)
    python = sorted(name for name in files if name.endswith(".py") and files[name].strip())
    for _ in range(draw(st.integers(0, 2))):
        if not python:
            break
        name = draw(st.sampled_from(python))
        statements = fs.ensure_body(draw(fs.statements(depth=1)))
        snippet = "\n".join(fs.render(statements, fs.Style(), 0)) + "\n"
        inserted = fs.insert_statements(files[name], snippet, draw(st.integers(0, 30)))
        if inserted is not None:
            files[name] = inserted
    if python and draw(st.integers(0, 4)) == 0:  # a hypothesmith program appended to a module
        name = draw(st.sampled_from(python))
        files[name] = files[name].rstrip() + b"\n\n\n" + draw(GRAMMAR).encode("utf-8")
    args = fs.case_options(case).get("args", []) or draw(st.sampled_from(RUN_ARGS))
    return case, files, args, draw(ORDERS)


def _mutated(example) -> None:
    case, files, args, order = example
    note(f"case: {case.parent.name}/{case.name}")
    for name, data in files.items():
        if name.endswith(".py"):
            note(f"--- {name}\n{data.decode('utf-8', 'replace')}")
    holder, root = _project(files)
    with holder:
        check_apply_twice(root, args, order)


@settings(NORMAL, max_examples=_examples(60))
@given(example=mutated_golden())
def test_mutated_golden_cases(example) -> None:
    _mutated(example)


@pytest.mark.slow
@settings(SLOW, max_examples=_examples(1500))
@given(example=mutated_golden())
def test_mutated_golden_cases_slow(example) -> None:
    _mutated(example)


# --------------------------------------------------------------------------------------------
# 5. Metamorphic: mutate(before) gives mutate(after) for the case's own rule



def _metamorphic(case: Path, mutation: str, tmp_path: Path) -> None:
    options = fs.case_options(case)
    root = fs.write_files(tmp_path / "project", fs.mutate_tree(fs.tree(case / "before"), mutation))
    run = fs.apply_cli(root, [case.parent.name], options.get("args", []))
    assert not run.traceback, run.traceback
    assert run.exit_code == options.get("exit", 0), run.output
    got = fs.tree(root)
    expected = fs.mutate_tree(fs.tree(case / "after"), mutation)
    for name, data in fs.tree(case / "after").items():  # a new file is written as it is, not in the project's layout
        if Path(name).name == fs.PINNING_TEST:
            expected[name] = data
    if mutation == "tabs":  # continuation lines aligned under a bracket: any tabs and spaces that line up
        got, expected = fs.expand_leading_tabs(got), fs.expand_leading_tabs(expected)
    differing = fs.changed_names(got, expected)
    assert not differing, "\n".join(fs.unified(expected.get(n, b""), got.get(n, b""), n) for n in differing) + run.output


# Normal run: every case once, the mutations in turn; slow run: every case with every mutation.
ONE_EACH = [(case, fs.mutations_for(case)[number % len(fs.mutations_for(case))]) for number, case in enumerate(fs.CASES)]
EVERY = [(case, mutation) for case in fs.CASES for mutation in fs.mutations_for(case)]


@pytest.mark.parametrize("case, mutation", ONE_EACH, ids=[f"{c.parent.name}/{c.name}-{m}" for c, m in ONE_EACH])
def test_meaning_preserving_mutation_of_golden_case(case: Path, mutation: str, tmp_path: Path) -> None:
    _metamorphic(case, mutation, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("case, mutation", EVERY, ids=[f"{c.parent.name}/{c.name}-{m}" for c, m in EVERY])
def test_meaning_preserving_mutation_of_golden_case_slow(case: Path, mutation: str, tmp_path: Path) -> None:
    _metamorphic(case, mutation, tmp_path)


# --------------------------------------------------------------------------------------------
# Bugs this fuzz found: regression tests for the fixed ones, reproducers for the open ones.


def _need(*names: str) -> None:
    missing = [n for n in names if n not in RULES]
    if missing:
        pytest.skip(f"rule not registered: {', '.join(missing)}")


# Regression tests: the rules of one apply run on each other's output (re-indexed overlay), and
# each must read that output, not the file on disk. This fuzz found sent-flag and
# atomic-multi-create (and, before 39538ec, guard-external-call) reading the old text while their
# ast came from the new one: IndexError / UnicodeDecodeError tracebacks in ast.get_source_segment,
# garbled messages, ignore comments read on the wrong lines. Fixed in 7c06e23.

STALE_SOURCE_TASKS = PRELUDE + (  # --rule atomic-multi-create --rule sent-flag: sent-flag crashed
    "@shared_task\n"
    "def place(order_id, sku):\n"
    "    order = Order.objects.get(pk=order_id)\n"
    "    OrderLine.objects.create(order=order, sku=sku)\n"
    '    OrderLine.objects.create(order=order, sku="gift")\n'
    '    send_mail("Thanks", "Your order.", None, [order.account.email])\n'
)
STALE_IGNORE_TASKS = PRELUDE + (  # --rule sent-flag --rule atomic-multi-create: the ignore comment was missed
    "@shared_task\n"
    "def welcome(account_id, order_id, sku):\n"
    "    account = Account.objects.get(pk=account_id)\n"
    '    send_mail("Welcome", "Hello", None, [account.email])\n'
    '    order = Order.objects.create(account=account, reference="welcome")\n'
    "    OrderLine.objects.create(order=order, sku=sku)  # idem-fix: ignore[atomic-multi-create]\n"
    '    OrderLine.objects.create(order=order, sku="gift")\n'
)
GUARD_IGNORE_TASKS = PRELUDE + (  # --rule atomic-multi-create --rule guard-external-call: the call went unguarded
    "@shared_task\n"
    "def place(order_id, sku):\n"
    "    order = Order.objects.get(pk=order_id)\n"
    "    OrderLine.objects.create(order=order, sku=sku)\n"
    '    OrderLine.objects.create(order=order, sku="gift")\n\n\n'
    "@shared_task\n"
    "def book(reservation_id):\n"
    "    reservation = Reservation.objects.get(pk=reservation_id)\n"
    '    response = partner_client.create_booking(data={"room": reservation.room})\n'
    '    reservation.booking_ref = response["ref"]  # idem-fix: ignore[guard-external-call]\n'
    "    reservation.save()\n\n\n"
    "def padding():\n"
    '    return "so that the old line numbers still exist"\n'
)


def test_sent_flag_reads_the_text_an_earlier_rule_wrote(tmp_path: Path) -> None:
    """atomic-multi-create wraps the two creates (a line more), then sent-flag takes the send's
    source segment: from the old text it was a line short (IndexError, exit 1, a traceback)."""
    _need("atomic-multi-create", "sent-flag")
    run, together, apart = _together_and_apart(STALE_SOURCE_TASKS, ["atomic-multi-create", "sent-flag"])
    assert not run.traceback, run.traceback
    assert run.exit_code == 0, run.output
    assert together == apart


def test_atomic_multi_create_reads_ignore_comments_in_the_text_an_earlier_rule_wrote(tmp_path: Path) -> None:
    """sent-flag inserts its two-line claim, then atomic-multi-create must find
    `# idem-fix: ignore[atomic-multi-create]` where it now is and leave the function alone (from the
    old text it missed it and wrapped the claim, the send and the Order create)."""
    _need("atomic-multi-create", "sent-flag")
    run, together, apart = _together_and_apart(STALE_IGNORE_TASKS, ["sent-flag", "atomic-multi-create"])
    assert not run.traceback, run.traceback
    assert "transaction.atomic" not in together["shop/tasks.py"].decode(), run.output
    assert together == apart


def test_guard_external_call_reads_ignore_comments_in_the_text_an_earlier_rule_wrote(tmp_path: Path) -> None:
    """The ignore comment is on the line after the partner call, so it does not silence it. After
    atomic-multi-create added the `with` line above in the same apply, guard-external-call must
    still guard the call (from the old text it found the comment on the call's new line)."""
    _need("atomic-multi-create", "guard-external-call")
    rules = ["atomic-multi-create", "guard-external-call"]
    run, together, apart = _together_and_apart(GUARD_IGNORE_TASKS, rules)
    assert "if reservation.booking_ref:" in apart["shop/tasks.py"].decode(), "the reproducer no longer applies"
    assert not run.traceback, run.traceback
    assert "if reservation.booking_ref:" in together["shop/tasks.py"].decode(), run.output
    assert together == apart


# --------------------------------------------------------------------------------------------
# Minimal reproducers of the known bugs still open. Each passes on correct behaviour and is an
# expected failure while the bug is open (strict: when one starts to pass, remove its mark; the
# probe above then stops setting that bug's failures aside by itself).


def test_second_apply_leaves_the_sent_flag_claim_alone(tmp_path: Path) -> None:
    """Regression (fixed in a2c6249): first apply, sent-flag claims Account.welcome_sent before the
    send; a second apply must change nothing (atomic-multi-create used to count the claim's update()
    as a write and wrap claim, send and AuditLog create in `with transaction.atomic():`)."""
    _need(*FLAG_RULES)
    root = fs.write_files(tmp_path / "project", fs.project_files(FLAG_TASKS))
    first = fs.apply_cli(root, FLAG_RULES, FIELD)
    assert not first.traceback and first.exit_code == 0, first.traceback or first.output
    assert "welcome_sent=False" in (root / "shop" / "tasks.py").read_text(), first.output
    second = fs.apply_cli(root, FLAG_RULES, FIELD)
    assert not second.traceback, second.traceback
    assert "Rewrote 0 sites" in second.output, second.output


def test_second_apply_leaves_the_sent_flag_mark_alone(tmp_path: Path) -> None:
    """`idem-fix apply --rule atomic-multi-create --rule sent-flag --flag-mode mark-after`, twice.
    First apply: sent-flag checks Account.welcome_sent before the send and marks it after
    (`Account.objects.filter(pk=account.pk).update(welcome_sent=True)`). Second apply:
    atomic-multi-create used to see two writes (the mark and the AuditLog create) and wrap them in
    `with transaction.atomic():`; the mark right after a send is not a write to pair."""
    _need(*FLAG_RULES)
    root = fs.write_files(tmp_path / "project", fs.project_files(FLAG_TASKS))
    first = fs.apply_cli(root, FLAG_RULES, MARK_AFTER)
    assert not first.traceback and first.exit_code == 0, first.traceback or first.output
    assert ".update(welcome_sent=True)" in (root / "shop" / "tasks.py").read_text(), first.output
    second = fs.apply_cli(root, FLAG_RULES, MARK_AFTER)
    assert not second.traceback, second.traceback
    assert "Rewrote 0 sites" in second.output, second.output
