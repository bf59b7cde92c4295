"""A cloned repository may ship its own `.idem-fix-cache/`: nothing in it may run, and the results
must be those of a run without it."""

from __future__ import annotations

import os
import pickle
import stat

import pytest
from conftest import write_tree
from idem_fix.cli.report import to_json
from idem_fix.codemods.engine import sealed
from idem_fix.codemods.engine.audit import audit
from idem_fix.codemods.engine.config import Config

PROJECT = {
    "shop/__init__.py": "",
    "shop/models.py": (
        "from django.db import models\n\n\nclass Order(models.Model):\n"
        "    number = models.CharField(max_length=10, unique=True)\n"
    ),
    "shop/tasks.py": (
        "from celery import shared_task\nfrom django.core.mail import send_mail\nfrom shop.models import Order\n\n\n"
        "@shared_task\ndef place(number):\n    Order.objects.create(number=number)\n"
        "    send_mail('placed', number, 'shop@example.com', ['a@example.com'])\n"
    ),
}


class _RunsCode:
    """Unpickling this creates `marker`: what a crafted cache file would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


@pytest.fixture
def own_secret(tmp_path, monkeypatch):
    """A fresh user secret for the test, in a cache folder of its own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setattr(sealed, "_secret", None)
    return tmp_path / "user-cache" / "idem-fix" / "secret"


def _audit_json(root) -> str:
    report, _ = audit([root], Config(), "test", render=to_json)
    return report.renderings["to_json"]


def _crafted_files(marker):
    payload = pickle.dumps(_RunsCode(marker))
    forged = sealed.MAGIC + b"\0" * 32 + payload  # looks sealed, with a made-up seal
    truncated_prefix = sealed.MAGIC + b"\1" * 10
    return {"plain pickle": payload, "forged seal": forged, "truncated": truncated_prefix}


@pytest.mark.parametrize("name", ["summaries.pickle", "report.pickle"])
@pytest.mark.parametrize("kind", ["plain pickle", "forged seal", "truncated"])
def test_a_shipped_cache_file_never_runs_and_changes_nothing(tmp_path, monkeypatch, own_secret, name, kind):
    root = write_tree(tmp_path / "repo", PROJECT)
    monkeypatch.chdir(root)
    clean = _audit_json(root)  # a run that writes its own cache, for comparison
    cache = root / ".idem-fix-cache"
    marker = tmp_path / "ran"
    for other in cache.glob("*.pickle"):
        other.unlink()
    (cache / name).write_bytes(_crafted_files(marker)[kind])
    assert _audit_json(root) == clean
    assert not marker.exists()


def test_a_cache_sealed_with_another_secret_is_a_miss(tmp_path, monkeypatch, own_secret):
    root = write_tree(tmp_path / "repo", PROJECT)
    monkeypatch.chdir(root)
    clean = _audit_json(root)
    monkeypatch.setattr(sealed, "_secret", b"\7" * 32)  # the author of the repository, say
    marker = tmp_path / "ran"
    sealed.write_sealed(root / ".idem-fix-cache" / "report.pickle", ("key", _RunsCode(marker)))
    sealed.write_sealed(root / ".idem-fix-cache" / "summaries.pickle", {"engine": "x", "entries": _RunsCode(marker)})
    monkeypatch.setattr(sealed, "_secret", None)
    assert _audit_json(root) == clean
    assert not marker.exists()


def test_the_secret_is_private_to_the_user(tmp_path, own_secret):
    sealed.write_sealed(tmp_path / "value", [1, 2])  # first use makes the secret
    assert stat.S_IMODE(own_secret.stat().st_mode) == 0o600
    assert sealed.read_sealed(tmp_path / "value") == [1, 2]


def test_a_secret_others_can_read_is_not_trusted(tmp_path, monkeypatch, own_secret):
    """A secret anyone could have read (or that arrived with a checkout, mode 0644) would let them seal
    a cache: then no cache written with it is ever read back by another process."""
    own_secret.parent.mkdir(parents=True)
    own_secret.write_bytes(b"k" * 32)
    own_secret.chmod(0o644)
    value = own_secret.parent / "value"
    sealed.write_sealed(value, "data")
    assert sealed.read_sealed(value) == "data"  # this process's own key
    monkeypatch.setattr(sealed, "_secret", None)  # a later run
    assert sealed.read_sealed(value) is None
