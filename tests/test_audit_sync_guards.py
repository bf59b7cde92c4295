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
    assert "`mail.state` holds `digest` once the first run stores it (lines 32 and 35)" in made["message"]
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


INITIALIZE_MISSING = """
    from celery import shared_task
    from django.db import transaction
    from django.utils import timezone
    from .models import Mail, Tag

    @shared_task
    def tag_new_mails():
        fresh = Mail.objects.filter(state__isnull=True)
        if not fresh:
            return
        for mail in fresh:
            mail.state = timezone.now()
        with transaction.atomic():
            Mail.objects.bulk_update(fresh, ["state"])
            queue_tags([mail.pk for mail in fresh])
        Mail.objects.filter(pk__in=[m.pk for m in fresh]).update(subject=str(timezone.now()))

    @shared_task
    def tag_mails_again():
        fresh = Mail.objects.filter(state__isnull=True)
        if not fresh:
            return
        for mail in fresh:
            mail.state = None
        Mail.objects.bulk_update(fresh, ["state"])
        queue_tags([mail.pk for mail in fresh])

    @shared_task
    def tag_mails_by_subject():
        fresh = Mail.objects.filter(subject="")
        if not fresh:
            return
        for mail in fresh:
            mail.state = timezone.now()
        Mail.objects.bulk_update(fresh, ["state"])
        queue_tags([mail.pk for mail in fresh])

    def queue_tags(ids):
        Tag.objects.bulk_create([Tag(name=str(i)) for i in ids])
"""


def test_work_after_the_rows_a_query_selects_are_marked_is_not_done_again(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, INITIALIZE_MISSING)
    made = at(found["tag_new_mails"], 39)
    assert made["risk"] == "low" and "it leaves when `not fresh` (line 9) finds no rows, and sets state on every row it found" in made["message"]
    stamped = at(found["tag_new_mails"], 16)  # low already, and its claim that a repeat writes a later time is answered too
    assert "a redelivery does not do it twice: it leaves when `not fresh` (line 9)" in stamped["message"]


def test_rows_marked_with_what_the_query_still_selects_or_by_another_field_are_found_again(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, INITIALIZE_MISSING)
    assert at(found["tag_mails_again"], 39)["risk"] != "low"  # state set back to None: still selected by state__isnull=True
    assert at(found["tag_mails_by_subject"], 39)["risk"] != "low"  # selected by subject, which the run leaves alone


SCHEDULED_UPDATES = """
    from celery import shared_task
    from .models import Tag

    @shared_task
    def refresh_all(names):
        for name in names:
            schedule(name)

    @shared_task
    def refresh_some(names, extra):
        for name in names:
            schedule(name, extra=extra)

    def schedule(name, extra=None, more=None):
        if extra or more:
            add_tags(name)

    def add_tags(name):
        Tag.objects.create(name=name)
"""


def test_a_call_in_a_branch_on_flags_the_task_never_passes_is_not_this_tasks(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SCHEDULED_UPDATES)
    assert not [f for f in found["refresh_all"] if f["line"] == 19]
    assert at(found["refresh_some"], 19)["risk"] == "moderate"  # it passes `extra` from its message


DELETED_THEN_MAILED = """
    from celery import shared_task
    from django.core.mail import EmailMessage
    from .models import Mail

    @shared_task
    def purge_drafts():
        drafts = Mail.objects.filter(state="draft")
        farewell = []
        for mail in drafts.all():
            farewell.append(mail.subject)
        drafts.delete()
        for subject in farewell:
            email = EmailMessage(subject, "deleted", to=["a@example.com"])
            email.send()

    @shared_task
    def list_drafts():
        drafts = Mail.objects.filter(state="draft")
        listed = []
        for mail in drafts.all():
            listed.append(mail.subject)
        for subject in listed:
            email = EmailMessage(subject, "still a draft", to=["a@example.com"])
            email.send()
"""


def test_a_send_for_rows_the_function_deleted_first_is_not_repeated(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, DELETED_THEN_MAILED)
    sent = at(found["purge_drafts"], 14)
    assert sent["risk"] == "low" and "collected from the rows of `drafts` (line 7), which the function deletes first (line 11)" in sent["message"]
    assert sent["code"] == "sent-flag" and "left alone" in sent["message"] and not sent["applicability"]  # sent-flag reads the same guard


def test_a_send_for_rows_still_there_is_repeated(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, DELETED_THEN_MAILED)
    assert at(found["list_drafts"], 24)["risk"] == "moderate"
