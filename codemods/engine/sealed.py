"""Cache files that only this user's idem-fix can have written.

The cache lives in the folder a run reads, and a cloned repository can ship one: unpickling a crafted
file runs its code. So every cache file is sealed: the pickled bytes behind an HMAC keyed by a secret
that lives outside any project, in the user's own cache folder (`$XDG_CACHE_HOME/idem-fix/secret`,
owned by the user, mode 0600). A file whose seal does not verify is never unpickled: it is a miss.
When the secret cannot be kept, each process makes its own, and caches only ever miss.
"""

from __future__ import annotations

import hmac
import os
import pickle
import stat
from pathlib import Path

MAGIC = b"idem-fix sealed cache 1\n"
_SECRET_BYTES = 32
_DIGEST_BYTES = 32  # SHA-256
_secret: bytes | None = None


def secret_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "idem-fix" / "secret"


def _user_secret() -> bytes:
    global _secret
    if _secret is None:
        _secret = _read_or_make_secret(secret_file()) or os.urandom(_SECRET_BYTES)
    return _secret


def _read_or_make_secret(path: Path) -> bytes | None:
    """The user's secret; made on first use. None when it cannot be trusted or kept: a file another
    user owns, or that others may read or write, could be known to whoever ships a cache."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(handle, "wb") as stream:
                stream.write(os.urandom(_SECRET_BYTES))
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(handle, "rb") as stream:
            info = os.fstat(stream.fileno())
            value = stream.read(_SECRET_BYTES + 1)
    except OSError:
        return None
    owner_ok = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    private = not (info.st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    if not (owner_ok and private and stat.S_ISREG(info.st_mode)) or len(value) != _SECRET_BYTES:
        return None
    return value


def _seal(payload: bytes) -> bytes:
    return hmac.digest(_user_secret(), payload, "sha256")


def read_sealed(path: Path):
    """The value stored at `path`, or None when there is none, or it is damaged, foreign or forged."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(MAGIC) + _DIGEST_BYTES
    if len(data) < head or not data.startswith(MAGIC):
        return None
    payload = memoryview(data)[head:]
    if not hmac.compare_digest(data[len(MAGIC) : head], _seal(payload)):
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 - sealed by us, yet unreadable (an older idem-fix's classes): a miss
        return None


def write_sealed(path: Path, value) -> None:
    """Write `value` sealed, through a temporary file renamed over `path`. Raises OSError."""
    import tempfile  # a warm run that reuses the last report writes nothing

    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(MAGIC)
            stream.write(_seal(payload))
            stream.write(payload)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
