"""Stop a task right after its side effect, so that a test can SIGKILL the worker there.

`hang_point("book_smart_lock")` does nothing unless IDEMFIX_E2E_HANG_AFTER (comma-separated task
names, or `*`) names it. When it does, the first run to reach it writes STATE_DIR/hang/<name>
(holding its pid) and sleeps until it is killed: the side effect is done, the message is not
acked. A later run (the redelivery) finds the marker and goes on, so each task stops only once.
"""
import os
import time
from pathlib import Path

from django.conf import settings

HANG_ENV = "IDEMFIX_E2E_HANG_AFTER"


def hang_point(name: str) -> None:
    wanted = {n.strip() for n in os.environ.get(HANG_ENV, "").split(",") if n.strip()}
    if name not in wanted and "*" not in wanted:
        return
    marker = Path(settings.STATE_DIR) / "hang" / name
    marker.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return  # the redelivery: this point already stopped a run once
    os.write(fd, str(os.getpid()).encode())
    os.fsync(fd)
    os.close(fd)
    while True:  # until SIGKILL
        time.sleep(60)
