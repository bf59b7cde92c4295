"""guard-external-call on small sources: the shapes the golden cases do not spell out."""

from __future__ import annotations

import textwrap

import pytest
from typer.testing import CliRunner

from idem_fix.cli.main import app

RULE = "guard-external-call"
MODELS = """
from django.db import models


class Reservation(models.Model):
    room = models.CharField(max_length=10)
    status = models.CharField(max_length=20, default="PENDING")
    booking_ref = models.CharField(max_length=40, blank=True, default="")
    lock_ref = models.CharField(max_length=40, blank=True, default="")
"""


def apply(tmp_path, monkeypatch, tasks: str, extra: dict[str, str] | None = None) -> tuple[str, str]:
    """Apply the rule to app/tasks.py (plus app/models.py and `extra`); return the new tasks.py and the output."""
    files = {"app/__init__.py": "", "app/models.py": MODELS, "app/tasks.py": tasks, **(extra or {})}
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["apply", "--no-cache", "--rule", RULE, "--unsafe-fixes", "."])
    assert result.exit_code == 0, result.output
    new = (tmp_path / "app/tasks.py").read_text()
    compile(new, "tasks.py", "exec")
    again = CliRunner().invoke(app, ["apply", "--no-cache", "--rule", RULE, "--unsafe-fixes", "."])
    assert again.exit_code == 0 and (tmp_path / "app/tasks.py").read_text() == new, "a second apply changed the file"
    return new, result.output


HEADER = """
import requests
from celery import shared_task

from .models import Reservation
"""


def test_async_function_refreshes_with_arefresh(tmp_path, monkeypatch):
    new, _ = apply(tmp_path, monkeypatch, HEADER + """

async def book(reservation):
    response = await partner_client.create_booking(room=reservation.room)
    reservation.booking_ref = response["ref"]
    await reservation.asave()


@shared_task
def book_task(pk):
    import asyncio

    asyncio.run(book(Reservation.objects.get(pk=pk)))
""", {"app/partner_client.py": "async def create_booking(room):\n    raise NotImplementedError\n"})
    assert '    await reservation.arefresh_from_db(fields=["booking_ref"])\n    if reservation.booking_ref:\n        return\n    response = await' in new


def test_with_binding_puts_the_guard_first_in_the_block(tmp_path, monkeypatch):
    new, output = apply(tmp_path, monkeypatch, HEADER + """
from django.db import transaction


@shared_task
def book(pk):
    with transaction.atomic():
        reservation = Reservation.objects.select_for_update().get(pk=pk)
        reservation.status = "BOOKING"
        response = requests.post("https://partner.example.com/bookings", json={"room": reservation.room})
        reservation.booking_ref = response.json()["ref"]
        reservation.save()
""")
    assert (
        "        reservation = Reservation.objects.select_for_update().get(pk=pk)\n"
        "        if reservation.booking_ref:\n            return\n"
        '        reservation.status = "BOOKING"\n'
    ) in new
    assert "refresh_from_db" not in new, output


def test_object_loaded_after_the_call_is_reported(tmp_path, monkeypatch):
    new, output = apply(tmp_path, monkeypatch, HEADER + """

@shared_task
def book(pk, room):
    response = requests.post("https://partner.example.com/bookings", json={"room": room})
    reservation = Reservation.objects.get(pk=pk)
    reservation.booking_ref = response.json()["ref"]
    reservation.save()
""")
    assert "if reservation" not in new
    assert "reservation is bound at line 10, after the call; load it before the call" in output


def test_several_fields_in_one_function_are_reported(tmp_path, monkeypatch):
    new, output = apply(tmp_path, monkeypatch, HEADER + """

@shared_task
def book(pk):
    reservation = Reservation.objects.get(pk=pk)
    reservation.booking_ref = requests.post("https://partner.example.com/bookings").json()["ref"]
    reservation.lock_ref = requests.post("https://locks.example.com/bookings").json()["id"]
    reservation.save()
""")
    assert "if reservation" not in new
    assert "saves several external results (reservation.booking_ref, reservation.lock_ref)" in output


def test_field_left_out_of_update_fields_is_not_a_store(tmp_path, monkeypatch):
    new, output = apply(tmp_path, monkeypatch, HEADER + """

@shared_task
def book(pk):
    reservation = Reservation.objects.get(pk=pk)
    reservation.booking_ref = requests.post("https://partner.example.com/bookings").json()["ref"]
    reservation.save(update_fields=["status"])
""")
    assert "if reservation" not in new
    assert "reservation.save() at line 11 leaves it out of update_fields" in output


def test_helper_returning_the_response_is_reported_not_guessed(tmp_path, monkeypatch):
    new, output = apply(tmp_path, monkeypatch, HEADER + """

def book(reservation):
    response = requests.post("https://partner.example.com/bookings", json={"room": reservation.room})
    reservation.booking_ref = response.json()["ref"]
    reservation.save()
    return response


@shared_task
def book_task(pk):
    book(Reservation.objects.get(pk=pk))
""")
    assert "if reservation" not in new
    assert "book() returns `response` after saving, which a guard cannot rebuild" in output


def test_an_inverted_check_is_not_a_guard(tmp_path, monkeypatch):
    new, output = apply(tmp_path, monkeypatch, HEADER + """

@shared_task
def confirm(pk):
    reservation = Reservation.objects.get(pk=pk)
    if not reservation.room:
        return
    response = requests.post("https://partner.example.com/bookings", json={"room": reservation.room})
    reservation.booking_ref = response.json()["ref"]
    reservation.save()
""")
    assert "    reservation = Reservation.objects.get(pk=pk)\n    if reservation.booking_ref:\n        return\n" in new


def test_a_query_on_the_field_is_a_guard(tmp_path, monkeypatch):
    source = HEADER + """

@shared_task
def book(pk):
    if Reservation.objects.filter(pk=pk, booking_ref__gt="").exists():
        return
    reservation = Reservation.objects.get(pk=pk)
    reservation.booking_ref = requests.post("https://partner.example.com/bookings").json()["ref"]
    reservation.save()
"""
    new, output = apply(tmp_path, monkeypatch, source)
    assert new == textwrap.dedent(source).lstrip("\n")
    assert "left alone: already guarded by `if Reservation.objects.filter(pk=pk, booking_ref__gt=\"\").exists()`" in output


def test_config_names_an_import_path(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.idem-fix]\nexternal-clients = ["acme_sdk.locks"]\n')
    new, output = apply(tmp_path, monkeypatch, HEADER + """
from acme_sdk.locks import reserve


@shared_task
def book(pk):
    reservation = Reservation.objects.get(pk=pk)
    reservation.lock_ref = reserve(reservation.room)
    reservation.save()
""")
    assert "    if reservation.lock_ref:\n        return\n" in new, output


def test_names_that_only_contain_client_words_are_not_clients(tmp_path, monkeypatch):
    source = HEADER + """
from django.conf import settings


@shared_task
def label(pk):
    reservation = Reservation.objects.get(pk=pk)
    reservation.status = settings.PARTNER_API_KEY.strip()
    reservation.booking_ref = settings.api_url_template.format(room=reservation.room)
    reservation.save()
"""
    new, output = apply(tmp_path, monkeypatch, source)
    assert new == textwrap.dedent(source).lstrip("\n")
    assert RULE not in output and "not guarded" not in output


def test_chained_response_call_is_one_finding(tmp_path, monkeypatch):
    _, output = apply(tmp_path, monkeypatch, HEADER + """

@shared_task
def ping_partner(room):
    requests.post("https://partner.example.com/holds", json={"room": room}).raise_for_status()
""")
    assert output.count("not guarded") == 1
    assert "requests.post() not guarded: its result is not stored" in output


def test_value_returning_guard_keeps_a_bool_contract(tmp_path, monkeypatch):
    new, output = apply(tmp_path, monkeypatch, HEADER + """

def book(reservation):
    response = requests.post("https://partner.example.com/bookings", json={"room": reservation.room})
    if response.status_code != 201:
        return False
    reservation.booking_ref = response.json()["ref"]
    reservation.save()
    return True


@shared_task
def book_task(pk):
    return book(Reservation.objects.get(pk=pk))
""")
    assert '    reservation.refresh_from_db(fields=["booking_ref"])\n    if reservation.booking_ref:\n        return True\n' in new
    assert "the guard returns `True`, as the function does after saving" in output


@pytest.mark.parametrize("loop", ["for reservation in reservations:", "for reservation in list(reservations):"])
def test_loop_over_argument_objects_refreshes(tmp_path, monkeypatch, loop):
    new, _ = apply(tmp_path, monkeypatch, HEADER + f"""

def book_all(reservations):
    {loop}
        reservation.booking_ref = requests.post("https://partner.example.com/bookings").json()["ref"]
        reservation.save()


@shared_task
def book_task():
    book_all(Reservation.objects.all())
""")
    refresh = '        reservation.refresh_from_db(fields=["booking_ref"])\n' if "list(" not in loop else ""
    assert f"    {loop}\n{refresh}        if reservation.booking_ref:\n            continue\n" in new


def test_config_import_path_through_a_module_import(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.idem-fix]\nexternal-clients = ["acme.locks"]\n')
    new, output = apply(tmp_path, monkeypatch, HEADER + """
import acme


@shared_task
def book(pk):
    reservation = Reservation.objects.get(pk=pk)
    reservation.lock_ref = acme.locks.reserve(reservation.room)
    reservation.save()
    acme.util.compute(reservation.room)
""")
    assert "    if reservation.lock_ref:\n        return\n" in new, output
    assert "compute" not in output
