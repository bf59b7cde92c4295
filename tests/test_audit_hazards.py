"""Task-level hazards the audit names with the fix that fits them, each against the same code without it."""

from __future__ import annotations

from test_audit_guards import at, findings

FRESH = """
    from celery import shared_task
    from .models import Mail, Tag, Video

    @shared_task
    def import_feed(feed, names):
        batch = Mail.objects.create(subject=feed)
        for name in names:
            Tag.objects.create(name=f"{batch.pk}-{name}")

    @shared_task
    def import_feed_once(feed, names):
        if Mail.objects.filter(subject=feed).exists():
            return
        batch = Mail.objects.create(subject=feed)
        for name in names:
            Tag.objects.create(name=f"{batch.pk}-{name}")

    @shared_task
    def import_videos(feed, uuids):
        report = Mail(subject=feed)
        report.save()
        for uuid in uuids:
            video = Video(uuid=uuid)
            video.save()
"""


def test_a_root_row_with_rows_keyed_on_it_is_a_second_full_import(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, FRESH)
    root = at(found["import_feed"], 6)
    assert root["risk"] == "high"
    assert "starts a new Mail on every run and Tag.objects.create() (line 8) adds rows keyed on it" in root["message"]


def test_a_root_looked_up_first_is_no_fresh_aggregate(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, FRESH)
    root = at(found["import_feed_once"], 14)
    assert root["risk"] == "low" and "a redelivery does not do it twice" in root["message"]


def test_rows_not_keyed_on_the_first_are_no_aggregate(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, FRESH)
    assert not [f for f in found["import_videos"] if f["code"] == "fresh-aggregate"]
    assert at(found["import_videos"], 24)["risk"] == "moderate"


A_ROW_AND_ITS_LINK = """
    from celery import shared_task
    from .models import Mail, Tag

    @shared_task
    def notify(subject):
        mail = Mail.objects.create(subject=subject)
        Tag.objects.create(name=str(mail.pk))
"""


def test_a_row_and_its_one_link_are_a_duplicate_not_a_second_import(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, A_ROW_AND_ITS_LINK)
    assert at(found["notify"], 6)["risk"] == "moderate" and "starts a new" not in at(found["notify"], 6)["message"]
    link = at(found["notify"], 7)  # keyed on a row this run made: no get_or_create can find the first run's
    assert "a row created in this same run: no lookup finds the first run's row" in link["reason"]


MARKED_MODELS = """
    from django.db import models

    class Invoice(models.Model):
        email = models.EmailField()
        reminder_sent_at = models.DateTimeField(null=True)

    class Guest(models.Model):
        email = models.EmailField()
"""
MARKER_TASKS = """
    from celery import shared_task
    from django.core.mail import send_mail
    from .models import Guest, Invoice

    @shared_task
    def remind(invoice_id):
        invoice = Invoice.objects.get(pk=invoice_id)
        send_mail("Reminder", "Please pay", None, [invoice.email])

    @shared_task
    def welcome(guest_id):
        guest = Guest.objects.get(pk=guest_id)
        send_mail("Welcome", "Hello", None, [guest.email])
"""


def test_a_sent_marker_the_model_has_but_the_task_does_not_check_is_named(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, MARKER_TASKS, {"app/models.py": MARKED_MODELS})
    [claim] = [f for f in found["remind"] if f["rule"] == "sent-flag"]
    assert claim["applicability"] == "manual"
    assert "Invoice.reminder_sent_at exists but the task does not check it before sending" in claim["reason"]


def test_a_model_without_a_marker_gets_the_usual_claim(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, MARKER_TASKS, {"app/models.py": MARKED_MODELS})
    [claim] = [f for f in found["welcome"] if f["rule"] == "sent-flag"]
    assert "exists but the task does not check it" not in claim["reason"] and claim["applicability"] in {"safe", "unsafe"}


LOG_ROW_BUILT_AND_SAVED = """
    from celery import shared_task
    from .models import Mail
    from .history import MailLog

    @shared_task
    def log_mail(subject):
        entry = MailLog(subject=subject)
        entry.save()

    @shared_task
    def draft_mail(subject):
        mail = Mail(subject=subject)
        mail.save()
"""
HISTORY = """
    from django.db import models

    class MailLog(models.Model):
        subject = models.CharField(max_length=100)
"""


def test_a_log_row_built_and_saved_records_the_run_again(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, LOG_ROW_BUILT_AND_SAVED, {"app/history.py": HISTORY})
    logged = at(found["log_mail"], 8)
    assert logged["risk"] == "low" and "entry.save() records a new MailLog row (an append-only log)" in logged["message"]
    drafted = at(found["draft_mail"], 13)
    assert drafted["risk"] == "moderate" and "inserts the row built in this function" in drafted["message"]


UPSERTS = """
    from celery import shared_task
    from .models import Tag
    from .pending import Pending

    @shared_task
    def retag(names):
        Tag.objects.filter(name__startswith="x").delete()
        for name in names:
            Tag.objects.update_or_create(name=name, defaults={})

    @shared_task
    def retag_others(names):
        Tag.objects.exclude(name__in=names).delete()
        for name in names:
            Tag.objects.update_or_create(name=name, defaults={})

    @shared_task
    def queue_updates(field_id, row_ids):
        Pending.objects.bulk_create([Pending(field_id=field_id, row_id=r) for r in row_ids], ignore_conflicts=True)
"""
PENDING = """
    from django.db import models

    class Pending(models.Model):
        field_id = models.IntegerField()
        row_id = models.IntegerField(null=True)

        class Meta:
            unique_together = ("field_id", "row_id")
"""


def test_an_upsert_after_a_delete_of_its_rows_makes_them_again(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, UPSERTS, {"app/pending.py": PENDING})
    remade = at(found["retag"], 9)
    assert remade["risk"] == "low" and "makes again the rows `Tag.objects.filter(name__startswith=\"x\").delete()` (line 7)" in remade["message"]
    assert "finds the row a first run made" in at(found["retag_others"], 15)["message"]  # the delete keeps the named rows


def test_a_unique_constraint_on_a_nullable_field_lets_rows_with_null_in(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, UPSERTS, {"app/pending.py": PENDING})
    queued = at(found["queue_updates"], 19)
    assert "except rows whose row_id is NULL (the database never counts two NULLs as equal): those are added again" in queued["message"]


CANVAS_STARTED = """
    from celery import chain, shared_task
    from celery.canvas import Signature

    @shared_task
    def step(x):
        pass

    def pipeline(x) -> Signature:
        return step.s(x) | step.s(x + 1)

    def plain_steps(x):
        return chain(step.s(x), step.s(x + 1))

    def callback(x):
        return print

    @shared_task
    def run_pipeline(x):
        runner = pipeline(x)
        runner()

    @shared_task
    def run_plain_steps(x):
        runner = plain_steps(x)
        runner()

    @shared_task
    def run_callback(x):
        report = callback(x)
        report()
"""


def test_calling_a_celery_canvas_a_function_returns_enqueues_it_again(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, CANVAS_STARTED)
    started = at(found["run_pipeline"], 20)
    assert started["risk"] == "moderate" and started["code"] == "fanout"
    assert "runner() starts the Celery canvas pipeline() builds (chain, group or signature)" in started["message"]
    assert at(found["run_plain_steps"], 25)["code"] == "fanout"
    assert at(found["run_callback"], 30)["code"] == "not-followed"  # what it returns is no canvas: not read


BULK_INDEXED = """
    from celery import shared_task
    from elasticsearch.helpers import bulk
    from .models import Tag
    from .search import client

    @shared_task
    def index_tags():
        bulk(client, [{"_index": "tags", "_source": {"name": t.name}} for t in Tag.objects.all()])
"""
BULK_INDEXED_BY_ID = BULK_INDEXED.replace('{"_index": "tags",', '{"_index": "tags", "_id": t.pk,')


def test_documents_bulk_indexed_without_an_id_are_added_again(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, BULK_INDEXED, {"app/search.py": "client = None\n"})
    added = at(found["index_tags"], 8)
    assert added["risk"] == "moderate" and "bulk() indexes documents that carry no `_id`: a redelivery adds them again" in added["message"]


def test_documents_bulk_indexed_by_id_are_written_again_in_place(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, BULK_INDEXED_BY_ID, {"app/search.py": "client = None\n"})
    assert at(found["index_tags"], 8)["risk"] == "low"


REPLACED_RELATION = """
    from celery import shared_task
    from .models import Mail, Tag

    @shared_task
    def retag(mail_id, name):
        mail = Mail.objects.get(pk=mail_id)
        if mail.tag:
            mail.tag.delete()
        mail.tag = Tag.objects.create(name=name)
        mail.save()
"""


def test_a_delete_of_what_the_function_then_replaces_says_a_repeat_replaces_the_replacement(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, REPLACED_RELATION)
    [deleted] = [f for f in found["retag"] if f["line"] == 8 and f["code"] == "db-delete"]
    assert ("mail.tag.delete() deletes what mail.tag holds (and whatever that delete cascades to), which the function then "
            "replaces (line 9): a repeat deletes the first run's replacement") in deleted["message"]
    saved = at([f for f in found["retag"] if f["code"] == "db-save"], 10)
    assert ("mail.save() stores mail.tag set at line 9, after the one there was deleted (line 8): a repeat deletes the "
            "first run's replacement and stores one of its own") in saved["message"]


def test_a_save_with_nothing_replaced_is_the_same_update_again(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, REPLACED_RELATION.replace("mail.tag.delete()", "mail.tag.name = name"))
    saved = at([f for f in found["retag"] if f["code"] == "db-save"], 10)
    assert "replacement" not in saved["message"] and "the same update again" in saved["message"]


REWRITTEN_AFTER_A_DELETE = """
    from celery import shared_task
    from django.db import connection
    from .models import Mail, Tag

    def copy_staged(batch):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO app_tag SELECT * FROM staged WHERE batch = %s", [batch])

    @shared_task
    def reload_tags(batch):
        Tag.objects.filter(pk__in=Mail.objects.filter(subject=batch).values("tag_id")).delete()
        copy_staged(batch)

    @shared_task
    def recheck(mail_ids, names):
        Tag.objects.filter(mail__pk__in=mail_ids).delete()
        Tag.objects.bulk_create([Tag(name=n) for n in names])

    @shared_task
    def prune(names):
        Tag.objects.exclude(name__in=names).delete()
        Tag.objects.bulk_create([Tag(name=n) for n in names])

    @shared_task
    def drop(tag_ids, names):
        Tag.objects.filter(pk__in=tag_ids).delete()
        Tag.objects.bulk_create([Tag(name=n) for n in names])
"""


def test_a_delete_then_writes_that_may_put_the_rows_back_says_a_repeat_deletes_them_again(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, REWRITTEN_AFTER_A_DELETE)
    raw = at(found["reload_tags"], 11)["message"]
    assert "may write such rows after it (`copy_staged(batch)` (line 12) runs raw SQL, not read here)" in raw
    assert "a repeat deletes what a first run wrote there, where it matches the query, and writes it again" in raw
    remade = at(found["recheck"], 16)["message"]
    assert "(`Tag.objects.bulk_create()` (line 17) makes Tag rows again)" in remade


def test_a_delete_of_rows_left_out_or_chosen_by_key_is_not_what_is_written_next(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, REWRITTEN_AFTER_A_DELETE)
    for task, line in (("prune", 21), ("drop", 26)):
        message = at(found[task], line)["message"]
        assert "already gone" in message and "writes it again" not in message


OWN_CLASS_SAVED = """
    from celery import shared_task
    from .models import Tag

    class Classifier:
        def save(self):
            with open("model.pickle", "wb") as out:
                out.write(b"")

    @shared_task
    def train():
        classifier = Classifier()
        classifier.save()

    @shared_task
    def tag():
        row = Tag(name="x")
        row.save()
"""


def test_a_save_of_the_projects_own_class_that_is_no_model_is_no_row(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, OWN_CLASS_SAVED)
    assert not [f for f in found["train"] if f["code"] == "db-save"]
    assert at(found["tag"], 17)["code"] == "db-save"


MODULE_OBJECTS = """
    from celery import shared_task
    from .cache import local_cache
    from .models import Tag

    stale_tags = Tag.objects.filter(name="")

    @shared_task
    def forget(name):
        local_cache.delete(name)

    @shared_task
    def prune():
        stale_tags.delete()
"""
LOCAL_CACHE = """
    class LocalCache:
        def __init__(self):
            self.values = {}

        def delete(self, key):
            self.values.pop(key, None)

    local_cache = LocalCache()
"""


def test_a_delete_on_a_module_object_of_the_projects_own_class_is_no_row(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, MODULE_OBJECTS, {"app/cache.py": LOCAL_CACHE})
    assert not [f for f in found["forget"] if f["code"] == "db-delete"]
    assert at(found["prune"], 13)["code"] == "db-delete"  # a queryset bound at the module's top still deletes rows


OWN_HELPERS_NAMED_LIKE_WRITES = """
    from celery import shared_task
    from django.utils import timezone
    from .models import Tag

    class IndexTable:
        @staticmethod
        def create(conn):
            conn.execute("CREATE TABLE IF NOT EXISTS idx (k TEXT)")

    class StemCache:
        def save(self):
            pass

    class Stemmer:
        def __init__(self):
            self._cache = StemCache()

        def stem(self, words):
            self._cache.save()

    @shared_task
    def open_index(conn):
        IndexTable.create(conn)

    @shared_task
    def stem(words):
        Stemmer().stem(words)

    @shared_task
    def touch(names):
        Tag.objects.filter(name__in=names).update(name="x", modified=timezone.now())
"""


def test_the_projects_own_create_and_save_helpers_are_read_as_their_bodies(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, OWN_HELPERS_NAMED_LIKE_WRITES)
    assert not [f for f in found["open_index"] if f["code"] in ("db-create", "create-to-get-or-create")]
    assert not [f for f in found["stem"] if f["code"] == "db-save"]


def test_an_update_that_stamps_the_time_says_a_repeat_writes_a_later_time(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, OWN_HELPERS_NAMED_LIKE_WRITES)
    assert "with the time of the run: a repeat sets them again with a later time" in at(found["touch"], 31)["message"]
