"""A recording fake of the external systems the partners app talks to (a booking partner, a smart-lock
API, OVH mail redirections).

Every call is appended as one JSON line to the file named by IDEMFIX_PARTNER_CALLS, outside the
database, the way a real partner keeps its own records: a rolled-back transaction or a crashed worker
does not take a call back. Each answer carries a new reference, numbered per method and subject
(`BK-101-1`, then `BK-101-2` for a second booking of room 101), so a test can tell which call's
reference a row kept.
"""
import json
import os
from pathlib import Path

CALLS_ENV = "IDEMFIX_PARTNER_CALLS"


def _log() -> Path:
    path = os.environ.get(CALLS_ENV)
    if not path:
        raise RuntimeError(f"set {CALLS_ENV} to the file that records partner calls")
    return Path(path)


def recorded() -> list[dict]:
    """Every call made so far, oldest first."""
    log = _log()
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line]


def _record(method: str, subject: str, **params) -> int:
    """Record one call; return how many calls of this method on this subject there have been, this one included."""
    number = 1 + sum(1 for c in recorded() if c["method"] == method and c["subject"] == subject)
    with _log().open("a") as stream:
        stream.write(json.dumps({"method": method, "subject": subject, "params": params, "number": number}) + "\n")
    return number


def create_booking(data: dict) -> dict:
    """The booking partner: books a room, answers with its booking reference."""
    room = str(data["room"])
    number = _record("create_booking", room, **data)
    return {"success": True, "bookingRefNumber": f"BK-{room}-{number}"}


def cancel_booking(reference: str) -> dict:
    number = _record("cancel_booking", reference)
    return {"success": True, "cancellation": f"CX-{reference}-{number}"}


class LockAPI:
    """The smart-lock vendor: books a lock for a stay, answers with the lock booking's id."""

    def book(self, lock_id: str, room: str) -> dict:
        number = _record("lock.book", lock_id, room=room)
        return {"id": f"LOCK-{lock_id}-{number}"}


class OvhClient:
    """OVH's API client: POST /email/domain/{domain}/redirection creates a redirection."""

    def post(self, path: str, **params) -> dict:
        number = _record("ovh.post", f"{path} {params.get('_from')}", **params)
        return {"id": number, "action": "add"}


def get_ovh_client() -> OvhClient:
    return OvhClient()
