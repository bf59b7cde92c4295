"""A sync that makes only what is missing or changed: rows a caller read and handed on, and a branch whose
every reason to run (`not row or row.digest != digest or force`) a first run settles. Each against the same
code with one part left open."""

from __future__ import annotations

from test_audit_guards import at, findings

SYNC = """
    import hashlib
    import uuid
    from celery import shared_task
    from .models import Mail, Tag

    @shared_task
    def sync_feeds(feeds):
        sync_all(feeds)

    @shared_task
    def sync_feeds_forced(feeds):
        sync_all(feeds, force=True)

    @shared_task
    def sync_given_mails(feeds, mails):
        for feed in feeds:
            sync_one(feed, mails, list(Tag.objects.all()))

    def sync_all(feeds, force=False):
        mails = Mail.objects.all()
        tags = list(Tag.objects.all())
        for feed in feeds:
            sync_one(feed, mails, tags, force=force)

    def sync_one(feed, mails, tags, force=False):
        digest = hashlib.sha256(feed["body"].encode()).hexdigest()
        mail = next((m for m in mails if m.subject == feed["name"]), None)
        if not mail or mail.state != digest or force:
            Tag.objects.create(name=feed["name"])
        fields = {"state": digest, "subject": feed["name"]}
        if not mail:
            mail = Mail.objects.create(**fields)
        else:
            for key, value in fields.items():
                setattr(mail, key, value)
            mail.save()
        for name in feed["tags"]:
            tag = next((t for t in tags if t.name == name), None)
            if not tag:
                tag = Tag.objects.create(name=name)
                tags.append(tag)
"""


def test_rows_made_for_what_is_missing_among_rows_every_caller_read_are_made_once(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SYNC)
    made = at(found["sync_feeds"], 40)
    assert made["risk"] == "low" and "it makes only what `not tag` (line 39) finds missing" in made["message"]
    mail = at(found["sync_feeds"], 32)
    assert mail["risk"] == "low" and "it makes only what `not mail` (line 31) finds missing" in mail["message"]


def test_rows_a_caller_hands_on_from_the_message_are_no_query(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SYNC)
    assert at(found["sync_given_mails"], 32)["risk"] != "low"  # `mails` comes from the message, not from the database
    assert at(found["sync_given_mails"], 40)["risk"] == "low"  # `tags` it reads itself


def test_a_branch_every_part_of_which_a_first_run_settles_is_not_taken_again(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SYNC)
    made = at(found["sync_feeds"], 29)
    assert made["risk"] == "low"
    assert "it runs only when `not mail or mail.state != digest or force` (line 28), and a first run settles each part" in made["message"]
    assert "`mail` is found among the Mail rows a query reads once the first run makes it (line 32)" in made["message"]
    assert "`mail.state` holds `digest` once the first run stores it (line 32)" in made["message"]
    assert "this task's calls leave force at False" in made["message"]


def test_a_branch_a_task_forces_stays_open(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SYNC)
    assert at(found["sync_feeds_forced"], 29)["risk"] != "low"


def test_a_part_compared_with_a_value_new_on_every_run_stays_open(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SYNC.replace('hashlib.sha256(feed["body"].encode()).hexdigest()', "str(uuid.uuid4())"))
    assert at(found["sync_feeds"], 29)["risk"] != "low"


def test_a_value_stored_on_one_way_only_leaves_the_branch_open(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SYNC.replace("setattr(mail, key, value)", "setattr(mail, key, feed)"))
    assert at(found["sync_feeds"], 29)["risk"] != "low"


def test_a_part_no_run_settles_leaves_the_branch_open(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SYNC.replace("or force:", "or feed.get(\"refresh\"):"))
    assert at(found["sync_feeds"], 29)["risk"] != "low"
