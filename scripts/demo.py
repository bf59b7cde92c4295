#!/usr/bin/env python
"""See it happen: a real Redis broker, a real Celery worker, SIGKILL, redelivery.

    python scripts/demo.py                      # starts its own redis-server on a free local port
    python scripts/demo.py --broker-url redis://127.0.0.1:6379/5   # or uses a running one (an empty db)

The story, run twice: on a copy of examples/redelivery as it is, then on a copy patched by
`idem-fix apply` with every rule `idem-fix rules` lists.

1. Seed the database and enqueue the project's risky tasks (a payout created in a service, a smart
   lock booked through a vendor's client, a welcome email that resets a password, a wallet opened
   with two creates). The project runs with task_acks_late and task_reject_on_worker_lost.
2. Start `celery worker --pool solo`. Each task stops right after its side effect
   (IDEMFIX_E2E_HANG_AFTER, see examples/redelivery/config/hang.py); the story SIGKILLs the whole
   worker there, as an OOM kill or a node loss would: the side effect happened, the ack did not.
3. Start a new worker. Redis hands the unacked message out again once its visibility_timeout has
   passed (a few seconds here) and the task runs a second time.
4. When every message is acked, count what the outside world saw: payout rows, bookings at the lock
   vendor, emails sent, wallets and bonuses.

tests/e2e/test_redelivery.py runs the same story (it imports this file) and asserts the counts.
Only 127.0.0.1 is ever contacted.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "redelivery"

# The tasks of the story, the side effect each one repeats, and the rule meant to fix it.
TASKS = {
    "run_monthly_payout": {"effect": "payouts", "fixed_by": ["create-to-get-or-create"]},
    "book_smart_lock": {"effect": "lock bookings", "fixed_by": ["guard-external-call"]},
    "send_host_welcome_email": {"effect": "welcome emails", "fixed_by": ["sent-flag"]},
    "open_wallet": {"effect": "wallets of ada", "fixed_by": ["create-to-get-or-create"]},
}
HANG_ENV = "IDEMFIX_E2E_HANG_AFTER"
MESSAGES = 5  # enqueued by `manage.py story enqueue`: one per task, and open_wallet for two users
VISIBILITY_TIMEOUT = 5  # seconds; see examples/redelivery/config/settings.py
WORKER_START_TIMEOUT = 30
STORY_TIMEOUT = 120


class StoryError(RuntimeError):
    """The story could not run to its end; the message carries the worker's log."""


# ---------------------------------------------------------------------------------------------
# Redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def redis_server(binary: str | None = None) -> Iterator[str]:
    """A throwaway `redis-server` on 127.0.0.1 and a free port, without persistence; yields its URL."""
    binary = binary or shutil.which("redis-server")
    if not binary:
        raise StoryError("redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no", "--loglevel", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        url = f"redis://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while not _ping(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                output = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
                raise StoryError(f"redis-server did not start on port {port}\n{output}")
            time.sleep(0.05)
        yield url
    finally:
        _stop(proc)


def _ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def broker_backlog(url: str) -> dict[str, int]:
    """Messages still waiting in a queue, and delivered but not acked ("unacked")."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        waiting = sum(client.llen(key) for key in client.scan_iter("celery*") if client.type(key) == b"list")
        return {"waiting": waiting, "unacked": client.hlen("unacked")}
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------
# The project copies


@dataclass
class Project:
    root: Path  # the copy of examples/redelivery
    state: Path  # its database, mail, journals and hang markers
    broker_url: str
    patched: bool
    rules: list[str] = field(default_factory=list)
    apply_output: str = ""
    cache_prefix: str = field(default_factory=lambda: f"redelivery-{uuid.uuid4().hex[:8]}")  # one per copy

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", HANG_ENV} and not k.startswith("REDELIVERY_")}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            REDELIVERY_STATE_DIR=str(self.state),
            REDELIVERY_BROKER_URL=self.broker_url,
            REDELIVERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            REDELIVERY_CACHE_PREFIX=self.cache_prefix,
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def manage(self, *args: str, timeout: float = 120) -> str:
        proc = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=self.root, env=self.env(),
            capture_output=True, text=True, timeout=timeout,
        )
        if proc.returncode != 0:
            raise StoryError(f"manage.py {' '.join(args)} failed in {self.root}:\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout


def all_rule_names() -> list[str]:
    """Every rule idem-fix has, as `idem-fix rules` lists them."""
    from idem_fix.codemods.engine.rules import all_rules

    return list(all_rules())


def prepare(workdir: Path, broker_url: str, patched: bool, rules: list[str] | None = None,
            apply_args: list[str] = ()) -> Project:
    """Copy examples/redelivery to `workdir`, patch it when asked (`apply_args`: more options for
    `idem-fix apply`, e.g. ["--flag-store", "cache"]), migrate and seed it."""
    root = workdir / "project"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "state", ".idem-fix-cache"))
    project = Project(root=root, state=workdir / "state", broker_url=broker_url, patched=patched)
    project.state.mkdir(parents=True, exist_ok=True)
    if patched:
        project.rules = list(rules if rules is not None else all_rule_names())
        command = [sys.executable, "-m", "idem_fix.cli", "apply"]
        for rule in project.rules:
            command += ["--rule", rule]
        proc = subprocess.run([*command, *apply_args, "."], cwd=root, env=project.env(),
                              capture_output=True, text=True, timeout=120)
        project.apply_output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            raise StoryError(f"idem-fix apply failed (exit {proc.returncode}):\n{project.apply_output}")
        # A rule may add a field (sent-flag does); `makemigrations` is what its message asks for.
        project.manage("makemigrations")
    project.manage("migrate", "--no-input")
    project.manage("story", "seed")
    return project


# ---------------------------------------------------------------------------------------------
# Workers


@dataclass
class Worker:
    proc: subprocess.Popen
    log: Path
    started: float

    @property
    def pid(self) -> int:
        return self.proc.pid


def start_worker(project: Project, number: int, pool: str = "solo", hang: str = ",".join(TASKS)) -> Worker:
    """`celery -A config worker` in its own process group, logging to state/worker-<n>.log.

    Its tasks named in `hang` stop after their side effect (once each; see config/hang.py).
    """
    log = project.state / f"worker-{number}.log"
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", pool, "--concurrency", "1",
               "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
               "--hostname", f"story{number}@%h"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, cwd=project.root, env=project.env(**{HANG_ENV: hang}),
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    return Worker(proc, log, time.monotonic())


def kill_worker(worker: Worker) -> None:
    """SIGKILL the worker's whole process group: no warm shutdown, no ack, no requeue by the worker."""
    try:
        os.killpg(worker.proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.proc.wait(timeout=10)


def _stop(proc: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM the process group, then SIGKILL it if it is still there after `grace` seconds."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=grace)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------------------------------------
# The story


@dataclass
class Story:
    project: Project
    counts: dict[str, dict[str, int]]  # task -> what the outside world saw
    runs: dict[str, list[int]]  # task -> how many times each of its messages started running, most first
    redelivered: dict[str, bool]  # task -> its stopped message ran again in another worker
    kills: list[dict]  # one per SIGKILL: task, worker pid, seconds until the redelivered run started
    outcomes: dict[str, list[str]]  # task -> how its finished runs ended ("SUCCESS", "FAILURE: error")
    seconds: float


def _journal(project: Project, name: str) -> list[dict]:
    path = project.state / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _hung(project: Project) -> set[str]:
    folder = project.state / "hang"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def run_story(project: Project, pool: str = "solo", timeout: float = STORY_TIMEOUT,
              say: Callable[[str], None] = lambda line: None) -> Story:
    """Enqueue, then SIGKILL the worker at every stopped task and start another until all is acked."""
    backlog = broker_backlog(project.broker_url)
    if any(backlog.values()):
        raise StoryError(f"the broker at {project.broker_url} is not empty: {backlog}")
    begin = time.monotonic()
    deadline = begin + timeout
    project.manage("story", "enqueue")
    number = 1
    worker = start_worker(project, number, pool)
    say(f"  worker {number} started (pid {worker.pid})")
    seen: set[str] = set()
    kills: list[dict] = []
    try:
        while True:
            stopped = _hung(project) - seen
            if stopped:
                name = sorted(stopped)[0]
                seen.add(name)
                kill_worker(worker)
                kills.append({"task": name, "pid": worker.pid, "killed_at": time.monotonic()})
                say(f"  {name}: side effect done, message not acked -> SIGKILL worker {number} (pid {worker.pid})")
                number += 1
                worker = start_worker(project, number, pool)
                say(f"  worker {number} started (pid {worker.pid})")
                continue
            finished = {r["id"] for r in _journal(project, "deliveries") if r["event"] == "finished"}
            if len(finished) >= MESSAGES and not any(broker_backlog(project.broker_url).values()):
                seconds = time.monotonic() - begin
                kill_worker(worker)  # idle, and every message is acked: nothing to lose
                break
            if worker.proc.poll() is not None:
                raise StoryError(f"worker {number} exited by itself ({worker.proc.returncode}):\n{_tail(worker.log)}")
            if time.monotonic() > deadline:
                raise StoryError(
                    f"the story did not finish within {timeout:.0f}s (stopped so far: {sorted(seen)}, finished "
                    f"messages: {len(finished)}/{MESSAGES}, broker: {broker_backlog(project.broker_url)})\n"
                    f"--- worker {number} log ---\n{_tail(worker.log)}"
                )
            time.sleep(0.1)
    finally:
        _stop(worker.proc)
    say(f"  every message acked after {seconds:.1f}s, {len(kills)} SIGKILLs")
    return _tally(project, kills, begin, seconds)


def _tally(project: Project, kills: list[dict], begin: float, seconds: float) -> Story:
    deliveries = _journal(project, "deliveries")
    starts: dict[str, dict[str, list[dict]]] = {name: {} for name in TASKS}  # task -> message id -> its runs
    outcomes: dict[str, list[str]] = {name: [] for name in TASKS}
    errors = {r["id"]: r["error"] for r in deliveries if r["event"] == "failed"}
    for record in deliveries:
        if record["event"] == "started":
            starts.setdefault(record["task"], {}).setdefault(record["id"], []).append(record)
        elif record["event"] == "finished":
            state = record["state"]
            outcomes.setdefault(record["task"], []).append(
                f"{state}: {errors[record['id']]}" if record["id"] in errors else state
            )
    redelivered = {}
    wall_offset = time.time() - time.monotonic()
    for kill in kills:
        killed_at = kill.pop("killed_at")
        stopped = [runs for runs in starts.get(kill["task"], {}).values() if any(r["pid"] == kill["pid"] for r in runs)]
        again = [r for runs in stopped for r in runs if r["pid"] != kill["pid"]]
        redelivered[kill["task"]] = bool(again)
        kill["killed_after"] = round(killed_at - begin, 2)
        if again:
            kill["redelivered_after"] = round(again[0]["at"] - (killed_at + wall_offset), 2)
            kill["flagged_redelivered"] = again[0]["redelivered"]
    counts = json.loads(project.manage("story", "counts").strip().splitlines()[-1])
    return Story(
        project=project,
        counts=counts,
        runs={name: sorted((len(runs) for runs in by_id.values()), reverse=True) for name, by_id in starts.items()},
        redelivered=redelivered,
        kills=kills,
        outcomes=outcomes,
        seconds=seconds,
    )


# ---------------------------------------------------------------------------------------------
# For a person


def _cell(counts: dict[str, int]) -> str:
    return ", ".join(f"{label}: {n}" for label, n in counts.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker-url", help="a running local Redis, e.g. redis://127.0.0.1:6379/5 (its db must "
                        "be empty); by default a redis-server is started on a free port and stopped at the end")
    parser.add_argument("--keep", action="store_true", help="keep the project copies, logs and databases")
    parser.add_argument("--pool", default="solo", choices=["solo", "prefork"], help="the worker pool (default solo)")
    parser.add_argument("--apply-args", default="--unsafe-fixes",
                        help='options for `idem-fix apply` (default "--unsafe-fixes": the story shows every rule\'s fix, reviewed)')
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="idem-fix-demo-"))
    try:
        with (_existing(args.broker_url) if args.broker_url else redis_server()) as url:
            base = url.rstrip("/") if not args.broker_url else url
            rules = all_rule_names()
            stories = {}
            for db, patched in ((1, False), (2, True)):
                broker = f"{base}/{db}" if not args.broker_url else url
                label = "after `idem-fix apply` with " + ", ".join(rules) if patched else "before: the project as it is"
                print(f"\n== {label}")
                project = prepare(workdir / ("patched" if patched else "unpatched"), broker, patched, rules,
                                  shlex.split(args.apply_args))
                if patched:
                    summary = [line for line in project.apply_output.splitlines() if line.strip()]
                    print("  " + (summary[-1] if summary else "idem-fix apply: no output"))
                stories[patched] = run_story(project, pool=args.pool, say=print)
            _report(stories[False], stories[True], rules)
    except StoryError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"\nkept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


@contextmanager
def _existing(url: str) -> Iterator[str]:
    if not _ping(url):
        raise StoryError(f"no Redis answers at {url}")
    yield url


def verdict(counts: dict[str, int]) -> str:
    """"once" when every count is 1; "TWICE" when one is more; "LOST" when one is 0 (and none is more)."""
    if any(n > 1 for n in counts.values()):
        return "TWICE"
    if any(n < 1 for n in counts.values()):
        return "LOST"
    return "once"


def _report(before: Story, after: Story, rules: list[str]) -> None:
    print("\nEvery task was stopped right after its side effect, its worker SIGKILLed before the ack, and its")
    print("message redelivered by Redis to a new worker. What the outside world saw:\n")
    for name, task in TASKS.items():
        missing = [r for r in task["fixed_by"] if r not in rules]
        fixed_by = ", ".join(task["fixed_by"]) + (" - not in this idem-fix yet" if missing else "")
        print(f"{name}  (fixed by {fixed_by})")
        for label, story in (("before", before), ("after ", after)):
            print(f"    {label}  {verdict(story.counts[name]):<6} {_cell(story.counts[name])}")
    times = [k["redelivered_after"] for s in (before, after) for k in s.kills if "redelivered_after" in k]
    if times:
        print(f"\nEach redelivery came {min(times):.1f}-{max(times):.1f}s after its SIGKILL (visibility_timeout "
              f"{VISIBILITY_TIMEOUT}s); the stories took {before.seconds:.0f}s and {after.seconds:.0f}s.")


if __name__ == "__main__":
    sys.exit(main())
