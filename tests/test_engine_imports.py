"""Imports added by fixes: once, reusing what is there, never clobbering a name."""

import libcst as cst
import pytest

from idem_fix.codemods.engine.imports import ensure_from_import


def add(source: str) -> tuple[str, str]:
    module, local = ensure_from_import(cst.parse_module(source), "django.db", "transaction")
    return module.code, local


def test_added_after_docstring_and_future_imports():
    code, local = add('"""Tasks."""\nfrom __future__ import annotations\n\nimport os\n')
    assert code == '"""Tasks."""\nfrom __future__ import annotations\nfrom django.db import transaction\n\nimport os\n'
    assert local == "transaction"


def test_header_comments_stay_on_top():
    code, _ = add("# Copyright\n# License\n\nimport os\n")
    assert code == "# Copyright\n# License\n\nfrom django.db import transaction\nimport os\n"


def test_existing_import_and_alias_are_reused():
    assert add("from django.db import transaction\n") == ("from django.db import transaction\n", "transaction")
    assert add("from django.db import transaction as tx\n") == ("from django.db import transaction as tx\n", "tx")


def test_joins_an_existing_from_import_of_the_package():
    assert add("from django.db import models\n") == ("from django.db import models, transaction\n", "transaction")


def test_a_name_already_in_use_is_not_clobbered():
    code, local = add("import os\n\ntransaction = object()\n")
    assert local == "db_transaction"
    assert "from django.db import transaction as db_transaction\n" in code
    assert "transaction = object()" in code


@pytest.mark.parametrize("source", ["", "x = 1\n", '"""Only a docstring."""\n'])
def test_twice_adds_once(source):
    module, _ = ensure_from_import(cst.parse_module(source), "django.db", "transaction")
    again, _ = ensure_from_import(module, "django.db", "transaction")
    assert again.code == module.code
    assert module.code.count("from django.db import transaction") == 1


def test_a_later_import_of_a_name_wins_in_the_order_ast_walk_meets_them(make_project):
    """A function's own import sits one level deeper than the module's, like one in a try block:
    breadth-first, the try block's import (after the function) is met last and wins."""
    project = make_project({
        "app/__init__.py": "",
        "app/clients.py": """
            def pay():
                from payments import client
                return client

            try:
                from legacy import client
            except ImportError:
                client = None
        """,
    })
    assert project.module("app.clients").imports["client"] == "legacy.client"
