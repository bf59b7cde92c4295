"""The audit reads the guards a project already has (engine/guards.py): a call a redelivery skips, or makes
no second time, is reported at low risk with the check that makes it so; the same call without the check
stays a risk. Each case comes from a guard a hand review found missing on a real project."""

from __future__ import annotations

import json

from conftest import write_tree
from test_audit import audit

MODELS = """
    from django.db import models

    class Mail(models.Model):
        DRAFT, SENDING, SENT = "draft", "sending", "sent"
        state = models.CharField(max_length=10, default=DRAFT)
        subject = models.CharField(max_length=100)

        def claim(self):
            self.state = self.SENDING
            self.save(update_fields=["state"])

        def retitle(self):
            self.subject = "Re: " + self.subject
            self.save(update_fields=["subject"])

    class Video(models.Model):
        uuid = models.UUIDField()

    class Tag(models.Model):
        name = models.CharField(max_length=50)

    class Warning(models.Model):
        translation_id = models.IntegerField()
        text = models.CharField(max_length=100)

    class Webhook(models.Model):
        failures = models.IntegerField(default=0)
        active = models.BooleanField(default=True)
"""


def findings(tmp_path, monkeypatch, tasks: str, extra: dict | None = None) -> dict[str, list[dict]]:
    root = write_tree(tmp_path / "p", {"app/__init__.py": "", "app/models.py": MODELS, "app/tasks.py": tasks, **(extra or {})})
    result = audit("--format", "json", ".", cwd=root, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    return {t["qualname"]: t["findings"] for t in json.loads(result.stdout)["tasks"]}


def at(found: list[dict], line: int) -> dict:
    [finding] = [f for f in found if f["line"] == line]
    return finding


SEND_DRAFT = """
    from celery import shared_task
    from .models import Mail

    @shared_task
    def deliver(mail_id):
        pass

    def send_draft(mail):
        if mail.state in (Mail.SENT, Mail.SENDING):
            raise ValueError("already sent")
        mail.state = Mail.SENDING
        mail.save()
        deliver.delay(mail.pk)

    @shared_task
    def send_outbox(mail_ids):
        for mail in Mail.objects.filter(pk__in=mail_ids, state=Mail.DRAFT):
            send_draft(mail)

    @shared_task
    def write_and_send(subject):
        mail = Mail(subject=subject)
        mail.save()
        send_draft(mail)
"""


def test_state_claimed_on_a_row_the_task_reads_is_skipped_on_a_repeat(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SEND_DRAFT)
    enqueue = at(found["send_outbox"], 13)
    assert enqueue["risk"] == "low"
    assert "a redelivery does not do it twice: it compares `mail.state` (line 9)" in enqueue["message"]
    assert "sets it before (line 11)" in enqueue["message"]


def test_state_claimed_on_a_row_built_this_run_is_no_guard(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SEND_DRAFT)
    enqueue = at(found["write_and_send"], 13)
    assert enqueue["risk"] == "moderate" and "a redelivery enqueues it again" in enqueue["message"]


SETTINGS_FLAG = """
    from celery import shared_task
    from .models import Mail

    @shared_task
    def deliver(text):
        pass

    def announce(event):
        if not event.settings.sent_closing_mail and event.closed:
            deliver.delay("closed")
            event.settings.sent_closing_mail = True
        if event.settings.reminders_enabled:
            deliver.delay("reminder")

    @shared_task
    def periodic(event_id):
        announce(Mail.objects.get(pk=event_id))
"""


def test_a_stored_flag_checked_before_and_set_after_is_a_guard(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SETTINGS_FLAG)
    flagged = at(found["periodic"], 10)
    assert flagged["risk"] == "low"
    assert "it compares `event.settings.sent_closing_mail` (line 9) before the call and records it after (line 11)" in flagged["message"]


def test_a_switch_the_task_never_writes_is_no_guard(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SETTINGS_FLAG)
    assert at(found["periodic"], 13)["risk"] == "moderate"


LOOKUP_FIRST = """
    from celery import shared_task
    from .models import Tag, Video

    @shared_task
    def sync_videos(uuids):
        for uuid in uuids:
            try:
                Video.objects.get(uuid=uuid)
                continue
            except Video.DoesNotExist:
                video = Video(uuid=uuid)
            video.save()

    @shared_task
    def sync_videos_checking_tags(uuids):
        for uuid in uuids:
            if Tag.objects.filter(name=uuid).exists():
                continue
            video = Video(uuid=uuid)
            video.save()
"""


def test_a_lookup_of_the_same_model_first_makes_the_insert_happen_once(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, LOOKUP_FIRST)
    insert = at(found["sync_videos"], 12)
    assert insert["risk"] == "low" and "the lookup at line 7 skips it when the row is there" in insert["message"]


def test_a_lookup_of_another_model_does_not_guard_the_insert(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, LOOKUP_FIRST)
    assert at(found["sync_videos_checking_tags"], 20)["risk"] == "moderate"


def test_a_lookup_that_exits_only_for_some_rows_does_not_guard_the_others(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, """
        from celery import shared_task
        from .models import Video

        @shared_task
        def award(uuid, repeatable):
            if not repeatable and Video.objects.filter(uuid=uuid).exists():
                return
            video = Video(uuid=uuid)
            video.save()
    """)
    assert at(found["award"], 9)["risk"] == "moderate"


REPLACED = """
    from celery import shared_task
    from .models import Tag, Warning

    @shared_task
    def recheck(translation_ids, texts):
        Warning.objects.filter(translation_id__in=translation_ids).delete()
        Warning.objects.bulk_create([Warning(translation_id=t, text=x) for t, x in zip(translation_ids, texts)])

    @shared_task
    def prune_then_add(old_ids, translation_ids):
        Warning.objects.filter(pk__in=old_ids).delete()
        Warning.objects.bulk_create([Warning(translation_id=t) for t in translation_ids])

    @shared_task
    def add_missing_tags(names):
        existing = set(Tag.objects.values_list("name", flat=True))
        Tag.objects.bulk_create([Tag(name=n) for n in set(names) - existing])

    @shared_task
    def add_tags(names):
        Tag.objects.bulk_create([Tag(name=n) for n in names])
"""


def test_rows_deleted_before_the_insert_are_replaced_not_duplicated(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, REPLACED)
    insert = at(found["recheck"], 7)
    assert insert["risk"] == "low" and "it replaces the rows" in insert["message"] and "(line 6) deletes them first" in insert["message"]


def test_rows_deleted_by_their_own_ids_are_not_the_rows_inserted(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, REPLACED)
    assert at(found["prune_then_add"], 12)["risk"] == "moderate"


def test_a_diff_against_what_a_query_found_makes_only_the_missing_rows(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, REPLACED)
    insert = at(found["add_missing_tags"], 17)
    assert insert["risk"] == "low" and "what a query did not find" in insert["message"]
    assert at(found["add_tags"], 21)["risk"] == "moderate"


SINGLETON = """
    from celery import shared_task
    from celery_singleton import Singleton

    @shared_task(base=Singleton)
    def rebuild_index(table_id):
        pass

    @shared_task
    def rebuild_report(table_id):
        pass

    @shared_task
    def schedule(table_id):
        rebuild_index.delay(table_id)
        rebuild_report.delay(table_id)
"""


def test_an_enqueue_of_a_singleton_task_joins_the_queued_one(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SINGLETON)
    singleton, plain = at(found["schedule"], 14), at(found["schedule"], 15)
    assert singleton["risk"] == "low" and "a celery_singleton Singleton task" in singleton["message"]
    assert plain["risk"] == "moderate"


OWN_HELPERS = """
    from celery import shared_task
    from django.core.mail import send_mail
    from .models import Webhook

    def notify_admins(webhook):
        webhook.failures = 0
        webhook.save()

    @shared_task
    def reset(webhook_id):
        webhook = Webhook.objects.get(pk=webhook_id)
        notify_admins(webhook)
        send_mail("reset", "done", None, ["ops@example.com"])

    @shared_task
    def record_failure(webhook_id):
        webhook = Webhook.objects.get(pk=webhook_id)
        webhook.failures += 1
        webhook.save()
"""


def test_a_project_function_named_like_a_send_is_judged_by_its_body(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, OWN_HELPERS)
    assert not [f for f in found["reset"] if f["line"] == 12]
    mail = at(found["reset"], 13)
    assert mail["risk"] == "moderate" and mail["message"].startswith("send_mail() sends a message")


def test_a_count_raised_before_a_save_is_counted_again(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, OWN_HELPERS)
    saved = at(found["record_failure"], 19)
    assert saved["risk"] == "moderate" and "a redelivery counts again" in saved["message"]


UNSEEN = """
    from celery import shared_task
    import importlib
    from django.core import management
    from django.db import connection

    @shared_task
    def stage(load_id):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM staging WHERE load_id = %s", [load_id])
            cursor.execute("INSERT INTO staging SELECT * FROM incoming WHERE load_id = %s", [load_id])

    @shared_task
    def import_package(source):
        management.call_command("packages", source=source)

    @shared_task
    def run_named(module_name, class_name):
        found = getattr(importlib.import_module(module_name), class_name)
        found().run()

    @shared_task
    def post_hook(table, url):
        request = table.get_request_function()
        request("POST", url)
        model = table.get_model()
        model(name="x")
"""


def test_work_the_analysis_cannot_read_is_named_not_called_analysed(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, UNSEEN)
    assert [(f["line"], f["code"]) for f in found["stage"]] == [(10, "not-followed")]
    assert "it runs raw SQL" in found["stage"][0]["message"]
    assert "the management command 'packages'" in at(found["import_package"], 14)["message"]
    assert "found is what getattr() looked up by name" in at(found["run_named"], 19)["message"]
    [hook] = found["post_hook"]  # a class handed back (`model(...)`) builds an object: nothing to follow
    assert hook["line"] == 24 and "request is what table.get_request_function() returned" in hook["message"]


MULTI_LINE = """
    from celery import shared_task
    from .models import Tag, Warning

    @shared_task
    def rebuild(names):
        Tag.objects.filter(
            name__in=names,
        ).delete()
        Tag.objects.bulk_create([Tag(name=n) for n in names])
        Warning.objects.filter(
            text__in=names,
        ).update(text="")
"""


def test_code_in_messages_is_one_line(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, MULTI_LINE)
    assert found["rebuild"] and all("\n" not in f["message"] and "\n" not in f["reason"] for f in found["rebuild"])
    assert any("Tag.objects.filter( name__in=names, ).delete()" in f["message"] for f in found["rebuild"])


VIDEO_WITH_A_BUILDER = MODELS + """
    class Clip(models.Model):
        uuid = models.UUIDField()

        @classmethod
        def from_json(cls, data):
            clip = build_clip(data)
            clip.uuid = data.get("uuid")
            clip.save()
            return clip


    def build_clip(data):
        return Clip(uuid=data["uuid"])
"""
FETCH_CLIPS = """
    from celery import shared_task
    from .models import Clip

    @shared_task
    def fetch_clip(data):
        if Clip.objects.filter(uuid=data["uuid"]).exists():
            return
        Clip.from_json(data)

    @shared_task
    def fetch_clip_unchecked(data):
        Clip.from_json(data)
"""


def test_a_save_of_unknown_origin_says_both_outcomes_unless_a_lookup_on_the_way_settles_it(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, FETCH_CLIPS, {"app/models.py": VIDEO_WITH_A_BUILDER})
    [saved] = [f for f in found["fetch_clip"] if f["path"] == "app/models.py"]
    assert saved["risk"] == "low" and "the lookup at line 6 skips it when the row is there in fetch_clip()" in saved["message"]
    [unchecked] = [f for f in found["fetch_clip_unchecked"] if f["path"] == "app/models.py"]
    assert "an update repeats to the same result; if it is a new row a caller built, a redelivery inserts another" in unchecked["message"]
    assert "query returned" not in unchecked["message"]  # `clip.uuid = data.get(...)` is no query


MARKS = """
    from celery import shared_task
    from django.core.cache import cache
    from django.core.mail import send_mail
    from django.db import transaction
    from django.utils import timezone
    from .models import Mail

    @shared_task
    def deliver(key):
        pass

    @shared_task
    def take_pending(key):
        if cache.delete(f"pending:{key}"):
            deliver.delay(key)

    @shared_task
    def drain(key):
        flag = cache.get(f"dirty:{key}")
        cache.delete(f"dirty:{key}")
        if cache.get(f"dirty:{key}"):
            deliver.delay(key)

    @shared_task
    def mail_digest():
        mails = list(Mail.objects.filter(digest_sent_at__isnull=True))
        with transaction.atomic():
            Mail.objects.filter(pk__in=[m.pk for m in mails]).update(digest_sent_at=timezone.now())
            transaction.on_commit(lambda: send_mail("Digest", "...", None, ["team@example.com"]))

    @shared_task
    def mail_alert():
        with transaction.atomic():
            Mail.objects.update(alert_notified_at=timezone.now())
            transaction.on_commit(lambda: send_mail("Alert", "...", None, ["team@example.com"]))

    @shared_task
    def drain_other(key):
        cache.delete(f"dirty:{key}")
        if cache.get(f"other:{key}"):
            deliver.delay(key)
"""


def test_a_mark_the_condition_takes_away_runs_the_body_once(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, MARKS)
    taken = at(found["take_pending"], 15)
    assert taken["risk"] == "low" and "removes a pending mark, which a repeat finds gone" in taken["message"]


def test_a_mark_cleared_then_read_again_runs_the_body_only_when_set_anew(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, MARKS)
    drained = at(found["drain"], 22)
    assert drained["risk"] == "low" and "finds the mark set again after the function cleared it (line 20)" in drained["message"]
    assert at(found["drain_other"], 41)["risk"] == "moderate"  # another mark than the one cleared


def test_rows_marked_sent_before_the_send_and_selected_by_that_mark_are_sent_once(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, MARKS)
    [mail] = [f for f in found["mail_digest"] if f["line"] == 29]
    assert mail["risk"] == "low" and "it marks the rows as sent first (digest_sent_at, line 28)" in mail["message"]


def test_a_sent_stamp_nothing_selects_by_is_no_guard(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, MARKS)
    assert [f["risk"] for f in found["mail_alert"] if f["line"] == 35] == ["moderate"]


COLLECTED = """
    from celery import shared_task
    from .models import Tag, Warning

    @shared_task
    def tag_new(names):
        existing = list(Tag.objects.values_list("name", flat=True))
        fresh = []
        for name in names:
            if name in existing:
                continue
            fresh.append(Tag(name=name))
        Tag.objects.bulk_create(fresh)

    @shared_task
    def tag_all(names):
        fresh = []
        for name in names:
            if name in names[:1]:
                continue
            fresh.append(Tag(name=name))
        Tag.objects.bulk_create(fresh)

    @shared_task
    def warn_unwarned(ids):
        Warning.objects.bulk_create(
            Warning(translation_id=tag.pk, text="missing") for tag in Tag.objects.filter(pk__in=ids, warning__isnull=True)
        )
"""


def test_rows_collected_past_a_skip_of_what_a_query_found_are_made_once(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, COLLECTED)
    made = at(found["tag_new"], 12)
    assert made["risk"] == "low" and "it makes only the items the loop keeps past `name in existing` (line 9)" in made["message"]
    assert at(found["tag_all"], 21)["risk"] == "moderate"  # the skip reads no query


def test_rows_made_for_what_a_query_finds_without_one_are_made_once(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, COLLECTED)
    assert at(found["warn_unwarned"], 25)["risk"] == "low"


MODES = """
    from celery import shared_task
    from .models import Tag

    class Mode:
        INSERT, UPDATE = "insert", "update"

    def sync(names, mode=Mode.UPDATE):
        if mode == Mode.INSERT:
            Tag.objects.bulk_create([Tag(name=n) for n in names])
        else:
            for name in names:
                Tag.objects.update_or_create(name=name)

    @shared_task
    def nightly(names):
        sync(names)

    @shared_task
    def initial_load(names):
        sync(names, mode=Mode.INSERT)
"""


def test_an_effect_on_a_branch_the_tasks_calls_never_take_is_not_the_tasks(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, MODES)
    assert not [f for f in found["nightly"] if f["line"] == 9]
    [made] = [f for f in found["initial_load"] if f["line"] == 9 and f["code"] == "db-create"]
    assert made["risk"] == "moderate"  # atomic-multi-create leaving sync() alone says nothing of the create


WRAPPED_BY_ONE_CALLER = """
    from celery import shared_task
    from django.db import transaction
    from .models import Tag, Warning

    def record(name):
        Tag.objects.create(name=name)
        Warning.objects.create(translation_id=1, text=name)

    @shared_task
    def record_atomically(name):
        with transaction.atomic():
            record(name)

    @shared_task
    def record_plainly(name):
        record(name)
"""


def test_a_transaction_a_tasks_own_call_already_holds_is_not_offered_to_that_task(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, WRAPPED_BY_ONE_CALLER)
    [held] = [f for f in found["record_atomically"] if f["code"] == "atomic-multi-create"]
    assert held["risk"] == "low" and "not for this task, its writes already commit together" in held["message"]
    [offered] = [f for f in found["record_plainly"] if f["code"] == "atomic-multi-create"]
    assert offered["risk"] != "low" and "not for this task" not in offered["message"]


SELECTED_BY_A_FIELD = """
    from celery import shared_task
    from django.db import transaction
    from django.utils import timezone
    from .models import Webhook

    @shared_task
    def ping(key):
        pass

    def give_up(webhook):
        webhook.failures = 0
        webhook.save()
        ping.delay(webhook.pk)

    @shared_task
    def deactivate(webhook_id):
        webhook = Webhook.objects.get(pk=webhook_id, failures__gt=3)
        give_up(webhook)

    @shared_task
    def deactivate_any(webhook_id):
        webhook = Webhook.objects.get(pk=webhook_id)
        give_up(webhook)

    @shared_task
    def trigger_due():
        changed = []
        for webhook in Webhook.objects.filter(failures=0):
            webhook.failures = 1
            changed.append(webhook)
            transaction.on_commit(lambda: ping.delay(webhook.pk))
        Webhook.objects.bulk_update(changed, ["failures"])
"""


def test_a_row_selected_by_a_field_the_function_changes_is_not_selected_again(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SELECTED_BY_A_FIELD)
    enqueue = at(found["deactivate"], 13)
    assert enqueue["risk"] == "low" and "it selects webhook by failures (deactivate(), line 17) and changes failures (line 11)" in enqueue["message"]
    assert at(found["deactivate_any"], 13)["risk"] == "moderate"  # selected by its key alone
    due = at(found["trigger_due"], 31)
    assert due["risk"] == "low" and "it selects webhook by failures (line 28) and changes failures (line 29)" in due["message"]


def test_a_field_set_to_the_value_it_was_selected_by_changes_no_selection(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SELECTED_BY_A_FIELD.replace("webhook.failures = 1", "webhook.failures = 0"))
    assert at(found["trigger_due"], 31)["risk"] == "moderate"


NOT_FOUND_IN_A_LOOKUP = """
    from celery import shared_task
    from .models import Tag

    @shared_task
    def tag_missing(groups):
        to_make = []
        for names in groups:
            by_name = {t.name: t for t in Tag.objects.filter(name__in=names)}
            missing = []
            for name in names:
                try:
                    by_name.pop(name)
                except KeyError:
                    missing.append(Tag(name=name))
            to_make += missing
        Tag.objects.bulk_create(to_make)

    @shared_task
    def tag_unseen(groups):
        to_make = []
        for names in groups:
            seen = {}
            missing = []
            for name in names:
                try:
                    seen[name]
                except KeyError:
                    missing.append(Tag(name=name))
            to_make += missing
        Tag.objects.bulk_create(to_make)
"""


def test_rows_made_where_a_lookup_in_what_a_query_found_fails_are_made_once(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, NOT_FOUND_IN_A_LOOKUP)
    made = at(found["tag_missing"], 16)
    assert made["risk"] == "low"
    assert "it makes only the items `by_name.pop(name)` (line 12) does not find among rows a query read (except KeyError)" in made["message"]


def test_a_lookup_in_a_dict_the_run_builds_itself_guards_nothing(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, NOT_FOUND_IN_A_LOOKUP)
    assert at(found["tag_unseen"], 30)["risk"] == "moderate"


LOOP_OVER_CHANGED_ROWS = """
    from celery import shared_task
    from django.db import transaction
    from .models import Webhook

    @shared_task
    def ping(key):
        pass

    @shared_task
    def disable_failing():
        to_disable = []
        for webhook in Webhook.objects.filter(failures__gt=3, active=True):
            webhook.active = False
            to_disable.append(webhook)
        Webhook.objects.bulk_update(to_disable, ["active"])
        for webhook in to_disable:
            transaction.on_commit(lambda w=webhook: ping.delay(w.pk))

    @shared_task
    def report_failing():
        to_report = []
        for webhook in Webhook.objects.filter(failures__gt=3, active=True):
            to_report.append(webhook)
        for webhook in to_report:
            ping.delay(webhook.pk)
"""


def test_a_loop_over_rows_taken_out_of_the_selection_runs_once_per_row(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, LOOP_OVER_CHANGED_ROWS)
    enqueue = at(found["disable_failing"], 17)
    assert enqueue["risk"] == "low"
    assert "it selects webhook by active (line 12) and changes active (line 13): a repeat does not select it again, and the loop at line 16" in enqueue["message"]
    assert at(found["report_failing"], 25)["risk"] == "moderate"  # collected unchanged: a repeat selects them again


WRITES_OF_A_MODE_NOT_TAKEN = """
    import enum
    from celery import shared_task
    from .models import Tag

    class Mode(enum.Enum):
        INSERT = 1
        UPDATE = 2

    def load(names, mode=Mode.UPDATE):
        for name in names:
            if mode == Mode.INSERT:
                tag = Tag(name=name)
                tag.save()
            else:
                Tag.objects.update_or_create(name=name, defaults={})
        if mode == Mode.INSERT:
            Tag.objects.bulk_create([Tag(name="last")])

    @shared_task
    def refresh(names):
        load(names)

    @shared_task
    def seed(names):
        load(names, mode=Mode.INSERT)
"""


def test_a_transaction_around_writes_of_a_branch_the_task_never_takes_is_not_offered_to_it(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, WRITES_OF_A_MODE_NOT_TAKEN)
    [skipped] = [f for f in found["refresh"] if f["code"] == "atomic-multi-create"]
    assert skipped["risk"] == "low"
    assert ("not for this task, only the write at line 15 runs on its way (the others: it runs only when mode == Mode.INSERT "
            "(line 11), and this task's calls pass Mode.UPDATE)") in skipped["message"]
    assert not [f for f in found["refresh"] if f["line"] in (13, 17)]  # the INSERT-mode writes are not this task's
    [offered] = [f for f in found["seed"] if f["code"] == "atomic-multi-create"]
    assert offered["risk"] != "low" and "not for this task" not in offered["message"]


FOUND_MISSING_AMONG_QUERIED_ROWS = """
    from celery import shared_task
    from .models import Tag, Video

    @shared_task
    def add_missing_tags(names):
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
        fresh = []
        for name in names:
            tag = existing.get(name)
            if tag is None:
                fresh.append(Tag(name=name))
        Tag.objects.bulk_create(fresh)

    @shared_task
    def add_tags_not_listed(names):
        listed = {t.name for t in Tag.objects.filter(name__in=names)}
        fresh = []
        for name in names:
            if name in listed:
                continue_here = True
            else:
                fresh.append(Tag(name=name))
        Tag.objects.bulk_create(fresh)

    @shared_task
    def add_first_tag(name):
        tag = next((t for t in Tag.objects.all() if t.name == name), None)
        if not tag:
            Tag.objects.create(name=name)

    @shared_task
    def tag_videos_without_a_tag(names):
        videos = {str(v.uuid): v for v in Video.objects.all()}
        fresh = []
        for name in names:
            video = videos.get(name)
            if video is None:
                fresh.append(Tag(name=name))
        Tag.objects.bulk_create(fresh)
"""


def test_rows_made_only_for_keys_missing_among_rows_a_query_read_are_made_once(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, FOUND_MISSING_AMONG_QUERIED_ROWS)
    made = at(found["add_missing_tags"], 12)
    assert made["risk"] == "low" and "`tag is None` (line 10) finds missing among the Tag rows a query read" in made["message"]
    assert at(found["add_tags_not_listed"], 23)["risk"] == "low"
    first = at(found["add_first_tag"], 29)
    assert first["risk"] == "low" and "it makes only what `not tag` (line 28) finds missing" in first["message"]


def test_a_key_missing_among_rows_of_another_model_guards_nothing(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, FOUND_MISSING_AMONG_QUERIED_ROWS)
    assert at(found["tag_videos_without_a_tag"], 39)["risk"] != "low"  # the Video rows stay missing: a repeat makes the tags again


ROW_FROM_A_GETTER = """
    from celery import shared_task
    from .models import Mail

    @shared_task
    def deliver(mail_id):
        pass

    def load_mail(mail_id):
        mail = Mail.objects.select_related().get(pk=mail_id)
        return mail

    def build_mail(subject):
        return Mail(subject=subject)

    def finish(mail):
        if mail.state == Mail.SENDING:
            return
        deliver.delay(mail.pk)
        mail.state = Mail.SENDING
        mail.save()

    @shared_task
    def send_loaded(mail_id):
        finish(load_mail(mail_id))

    @shared_task
    def send_built(subject):
        mail = build_mail(subject)
        finish(mail)
"""


def test_a_state_stored_on_a_row_a_project_getter_reads_guards_a_repeat(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, ROW_FROM_A_GETTER)
    queued = at(found["send_loaded"], 18)
    assert queued["risk"] == "low" and "it compares `mail.state` (line 16)" in queued["message"]
    assert at(found["send_built"], 18)["risk"] != "low"  # each run builds its own Mail: nothing stored to find


STATE_WRITTEN_THROUGH_A_CALL = """
    from celery import shared_task
    from django.core.mail import send_mail
    from .models import Mail

    def model_update(*, instance, data):
        for field, value in data.items():
            setattr(instance, field, value)
        instance.save(update_fields=list(data))

    def deliver(mail):
        send_mail(mail.subject, "body", "from@example.com", ["to@example.com"])

    @shared_task
    def send_once(mail_id):
        mail = Mail.objects.get(pk=mail_id)
        if mail.state != Mail.SENDING:
            return
        deliver(mail)
        model_update(instance=mail, data={"state": Mail.SENT})

    @shared_task
    def send_once_by_key(mail_id):
        mail = Mail.objects.get(pk=mail_id)
        if mail.state != Mail.SENDING:
            return
        deliver(mail)
        Mail.objects.filter(pk=mail.pk).update(state=Mail.SENT)

    @shared_task
    def send_and_rename(mail_id, subject):
        mail = Mail.objects.get(pk=mail_id)
        if mail.state != Mail.SENDING:
            return
        deliver(mail)
        model_update(instance=mail, data={"subject": subject})
"""


def test_a_state_checked_and_written_through_a_helper_or_an_update_by_key_guards_a_repeat(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, STATE_WRITTEN_THROUGH_A_CALL)
    sent = at(found["send_once"], 11)
    assert sent["risk"] == "low" and "it compares `mail.state` (line 16) before the call and records it after (line 19)" in sent["message"]
    saved = at(found["send_once"], 8)
    assert saved["risk"] == "low" and "it compares `mail.state` (line 16) before the call and the call sets it (line 19)" in saved["message"]
    assert at(found["send_once_by_key"], 11)["risk"] == "low"


def test_a_helper_that_writes_another_field_guards_nothing(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, STATE_WRITTEN_THROUGH_A_CALL)
    assert at(found["send_and_rename"], 11)["risk"] == "moderate"


SELECTED_THROUGH_A_QUERYSET_METHOD = """
    from celery import shared_task
    from django.db import models
    from .models import Webhook

    class WebhookQuerySet(models.QuerySet):
        def failing(self):
            return self.filter(active=True, failures__gt=3)

    @shared_task
    def ping(key):
        pass

    @shared_task
    def disable_failing():
        def disable(webhook):
            webhook.active = False
            webhook.save()
            ping.delay(webhook.pk)
        for webhook in Webhook.objects.failing():
            disable(webhook)

    @shared_task
    def touch_failing():
        def touch(webhook):
            webhook.active = True
            webhook.save()
            ping.delay(webhook.pk)
        for webhook in Webhook.objects.failing():
            touch(webhook)
"""


def test_a_row_selected_through_a_queryset_method_and_changed_by_a_nested_function_is_not_selected_again(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SELECTED_THROUGH_A_QUERYSET_METHOD)
    enqueue = at(found["disable_failing"], 18)
    assert enqueue["risk"] == "low"
    assert "it selects webhook by active (through failing(), line 19) and changes active (line 16)" in enqueue["message"]
    assert at(found["touch_failing"], 27)["risk"] == "moderate"  # set to the value it was selected by: selected again


MADE_FOR_THE_MISSING = """
    from celery import shared_task
    from .models import Tag, Video

    def add_video(name):
        Video.objects.create(uuid=name)

    @shared_task
    def enable_tags(names):
        enabled = {t.name for t in Tag.objects.filter(name__in=names)}
        to_add = []
        for name in names:
            if name not in enabled:
                to_add.append(name)
        for name in to_add:
            add_video(name)
            Tag.objects.create(name=name)

    @shared_task
    def enable_tags_sometimes(names, really):
        enabled = {t.name for t in Tag.objects.filter(name__in=names)}
        to_add = []
        for name in names:
            if name not in enabled:
                to_add.append(name)
        for name in to_add:
            add_video(name)
            if really:
                Tag.objects.create(name=name)
"""


def test_work_in_a_loop_over_items_missing_among_rows_the_loop_makes_runs_once(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, MADE_FOR_THE_MISSING)
    video = at(found["enable_tags"], 5)
    assert video["risk"] == "low"
    assert ("it runs in the loop over `to_add` (line 14), which holds only the items `name not in enabled` (line 12) finds "
            "missing among the Tag rows a query read, and each turn makes that Tag row (line 16)") in video["message"]


def test_a_loop_that_does_not_always_make_the_row_it_looks_for_guards_nothing(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, MADE_FOR_THE_MISSING)
    assert at(found["enable_tags_sometimes"], 5)["risk"] == "moderate"


BRANCH_LEFT_BY_A_METHOD = """
    from celery import shared_task
    from .models import Mail

    @shared_task
    def deliver(mail_id):
        pass

    @shared_task
    def send_drafts():
        for mail in Mail.objects.filter(subject__startswith="News"):
            if mail.state == Mail.DRAFT:
                mail.claim()
                deliver.delay(mail.pk)

    @shared_task
    def resend_drafts():
        for mail in Mail.objects.filter(subject__startswith="News"):
            if mail.state == Mail.DRAFT:
                mail.retitle()
                deliver.delay(mail.pk)
"""


def test_a_branch_a_method_of_the_row_leaves_is_not_taken_again(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, BRANCH_LEFT_BY_A_METHOD)
    enqueue = at(found["send_drafts"], 13)
    assert enqueue["risk"] == "low"
    assert ("it runs only when `mail.state == Mail.DRAFT` (line 11), and mail.claim() sets state and saves it "
            "(Mail.claim, line 9)") in enqueue["message"]
    assert at(found["resend_drafts"], 20)["risk"] == "moderate"  # the method changes another field


SAVED_ONLY_WHAT_IT_CLEARS = """
    from celery import shared_task
    from .models import Mail

    def reset(mail):
        fields = []
        if mail.subject:
            mail.subject = None
            fields.append("subject")
        if fields:
            mail.save(update_fields=fields)

    def retitle(mail):
        fields = []
        if mail.subject:
            mail.subject = "Re: " + mail.subject
            fields.append("subject")
        if fields:
            mail.save(update_fields=fields)

    @shared_task
    def reset_mail(mail_id):
        reset(Mail.objects.get(pk=mail_id))

    @shared_task
    def retitle_mail(mail_id):
        retitle(Mail.objects.get(pk=mail_id))
"""


def test_a_save_of_only_the_fields_it_clears_is_not_repeated(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, SAVED_ONLY_WHAT_IT_CLEARS)
    saved = at(found["reset_mail"], 10)
    assert saved["risk"] == "low" and "it runs only when `fields` (line 9) has items, added only where `mail.subject` is set" in saved["message"]
    assert "does not do it twice" not in at(found["retitle_mail"], 18)["message"]  # what it writes is set again on a repeat


FLAG_LEFT_UNSET = """
    from celery import shared_task
    from .models import Tag

    def record(name, notify=False):
        if notify:
            Tag.objects.create(name=name)

    @shared_task
    def quiet(name):
        record(name)

    @shared_task
    def loud(name):
        record(name, notify=True)
"""


def test_an_effect_under_a_flag_the_tasks_calls_leave_unset_is_not_theirs(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, FLAG_LEFT_UNSET)
    assert not [f for f in found["quiet"] if f["line"] == 6]
    assert at(found["loud"], 6)["risk"] == "moderate"


EXPIRY_MOVED_ON = """
    from datetime import timedelta
    from celery import shared_task
    from django.utils import timezone
    from .models import Mail
    from .oauth import refresh_remote

    def refresh(mail):
        refresh_remote(mail.subject)
        mail.sent_at = timezone.now() + timedelta(hours=1)
        mail.save()

    @shared_task
    def refresh_if_due(mail_id):
        mail = Mail.objects.get(pk=mail_id)
        if mail.sent_at < timezone.now():
            refresh(mail)

    @shared_task
    def refresh_if_due_or_forced(mail_id, force):
        mail = Mail.objects.get(pk=mail_id)
        if force or mail.sent_at < timezone.now():
            refresh(mail)
"""


def test_a_call_past_an_expiry_the_run_moves_on_is_not_repeated(tmp_path, monkeypatch):
    found = findings(tmp_path, monkeypatch, EXPIRY_MOVED_ON, {"app/oauth.py": "import requests\n\ndef refresh_remote(token):\n    requests.post('https://auth.example.com/token', data={'t': token})\n"})
    [remote] = [f for f in found["refresh_if_due"] if f["path"].endswith("oauth.py")]
    assert remote["risk"] == "low" and "refresh() sets mail.sent_at and saves it (refresh, line 9)" in remote["message"]
    [forced] = [f for f in found["refresh_if_due_or_forced"] if f["path"].endswith("oauth.py")]
    assert forced["risk"] != "low"  # `force or ...`: moving the expiry on does not leave the branch
