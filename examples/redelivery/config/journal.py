"""Append-only JSON-lines journals under STATE_DIR that survive the SIGKILL of their writer."""
import json
import os
from pathlib import Path

from django.conf import settings


def journal_path(name: str) -> Path:
    return Path(settings.STATE_DIR) / f"{name}.jsonl"


def append(name: str, record: dict) -> None:
    """Write one line with O_APPEND and fsync it: on disk before the caller goes on."""
    path = journal_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(record, sort_keys=True) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read(name: str) -> list[dict]:
    path = journal_path(name)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
