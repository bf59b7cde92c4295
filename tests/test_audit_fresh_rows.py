"""Rows keyed on a row the same run made: an importer makes a new project on every run, so a lookup keyed on
it (get_or_create, an exists() check) never finds what a first run made. Each against the same code keyed on a
row that was there before the run."""

from __future__ import annotations

from test_audit_guards import at, findings

MODELS = """
    from django.db import models

    class Board(models.Model):
        name = models.CharField(max_length=50)

    class Member(models.Model):
        board = models.ForeignKey(Board, on_delete=models.CASCADE)
        email = models.CharField(max_length=100)

    class Label(models.Model):
        board = models.ForeignKey(Board, on_delete=models.CASCADE)
        name = models.CharField(max_length=50)

    class Ticket(models.Model):
        board = models.ForeignKey(Board, on_delete=models.CASCADE)
        number = models.IntegerField()

        class Meta:
            unique_together = ("board", "number")
"""
IMPORTS = """
    from celery import shared_task
    from .models import Board, Label, Member, Ticket

    @shared_task
    def import_board(name, emails, labels):
        board = Board.objects.create(name=name)
        fill(board, emails, labels)

    @shared_task
    def refresh_board(board_id, emails, labels):
        board = Board.objects.get(pk=board_id)
        fill(board, emails, labels)

    def fill(board, emails, labels):
        for email in emails:
            if Member.objects.filter(board=board, email=email).exists():
                continue
            Member.objects.create(board=board, email=email)
        for label in labels:
            fields = {"board": board, "name": label}
            Label.objects.get_or_create(**fields)

    def number_of(board):
        return seq.next_value(f"tickets_{board.pk}")

    @shared_task
    def open_ticket(board_id):
        board = Board.objects.get(pk=board_id)
        Ticket.objects.create(board=board, number=number_of(board))
"""


def test_a_lookup_keyed_on_a_row_made_this_run_finds_nothing_a_first_run_made(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, IMPORTS, {"app/models.py": MODELS})
    upsert = at(found["import_board"], 21)
    assert upsert["risk"] == "moderate"
    assert "get_or_create() looks its row up by board, which comes from Board.objects.create(name=name), a row created in this same run" in upsert["message"]
    member = at(found["import_board"], 18)  # the exists() check before it is keyed on the new board: no guard
    assert member["risk"] == "high" and "makes rows keyed on board, which comes from Board.objects.create(name=name)" in member["message"]
    assert "a redelivery makes that row again and all these rows with it (a second full import)" in member["message"]


def test_a_lookup_keyed_on_a_row_that_was_there_finds_the_first_runs_row(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, IMPORTS, {"app/models.py": MODELS})
    assert at(found["refresh_board"], 21)["message"].startswith("Label.objects.get_or_create() finds the row a first run made")
    assert at(found["refresh_board"], 18)["risk"] == "low"


def test_a_value_a_project_function_takes_from_a_sequence_is_new_on_every_run(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, IMPORTS, {"app/models.py": MODELS})
    ticket = at(found["open_ticket"], 29)
    assert "number comes from number_of(board), which returns what seq.next_value(" in ticket["reason"]
    assert ticket["applicability"] == "manual"
