"""What a call does, by the library it comes from: each family of clients the audit knows, with a call
that is that effect and one that is not (a read, building the client, a lookalike of no known library)."""

from __future__ import annotations

import textwrap

import pytest

from idem_fix.codemods.engine.summarize import summarize


def kinds(source: str) -> dict[str, str]:
    """callee as written -> effect kind (with its family: "external/payment"), for the calls in `run()`."""
    module = summarize(textwrap.dedent(source).encode(), "/p/app/tasks.py", "app.tasks", False)
    return {e.call: e.kind + (f"/{e.family}" if e.family else "") for e in module.functions["run"].effects}


CASES = [
    # (family, source, {call: kind}) — a call absent from the dict has no effect
    ("email: anymail", """
        from anymail.message import AnymailMessage
        def run():
            message = AnymailMessage(subject="Hi", to=["a@example.com"])
            message.send()
     """, {"message.send": "send"}),
    ("sms: twilio client built in the function", """
        from twilio.rest import Client
        def run(to):
            client = Client("sid", "token")
            client.messages.create(to=to, from_="+100", body="code")
            client.messages.list(limit=1)
     """, {"client.messages.create": "send", "client.messages.list": "external_read"}),
    ("sms: vonage", """
        import vonage
        def run(to):
            vonage.Client(key="k", secret="s").sms.send_message({"to": to})
     """, {'vonage.Client(key="k", secret="s").sms.send_message': "send"}),
    ("push: firebase", """
        from firebase_admin import messaging
        def run(token):
            messaging.send(messaging.Message(token=token))
     """, {"messaging.send": "send"}),
    ("chat: slack_sdk", """
        from slack_sdk import WebClient
        slack = WebClient(token="x")
        def run():
            slack.chat_postMessage(channel="#ops", text="done")
     """, {"slack.chat_postMessage": "send"}),
    ("payment: stripe module calls", """
        import stripe
        def run(customer):
            stripe.PaymentIntent.create(amount=100, currency="eur", customer=customer)
            stripe.PaymentIntent.retrieve("pi_1")
     """, {"stripe.PaymentIntent.create": "external/payment", "stripe.PaymentIntent.retrieve": "external_read"}),
    ("payment: braintree", """
        import braintree
        gateway = braintree.BraintreeGateway(braintree.Configuration(environment=braintree.Environment.Sandbox))
        def run(nonce):
            gateway.transaction.sale({"amount": "10.00", "payment_method_nonce": nonce})
     """, {"gateway.transaction.sale": "external/payment"}),
    ("LLM: anthropic messages are completions, not SMS", """
        import anthropic
        client = anthropic.Anthropic()
        def run(text):
            client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": text}])
     """, {"client.messages.create": "external/paid_call"}),
    ("LLM: openai", """
        from openai import OpenAI
        def run(text):
            OpenAI().chat.completions.create(model="m", messages=[])
     """, {"OpenAI().chat.completions.create": "external/paid_call"}),
    ("LLM: google genai, two-part package name", """
        from google import genai
        def run(text):
            genai.Client().models.generate_content(model="m", contents=text)
     """, {"genai.Client().models.generate_content": "external/paid_call"}),
    ("http: requests", """
        import requests
        def run(url):
            requests.post(url, json={})
            requests.get(url)
     """, {"requests.post": "external", "requests.get": "external_read"}),
    ("redis locks and keyed writes are not external state", """
        import redis
        r = redis.Redis.from_url("redis://cache")
        def run(key):
            r.set(key, 1, nx=True, ex=60)
            r.lock("job").acquire()
            r.object("encoding", key)
            r.memory_usage(key)
            r.delete(key)
     """, {"r.set": "cache", 'r.lock("job").acquire': "cache", "r.delete": "cache"}),
    ("search index writes", """
        from elasticsearch import Elasticsearch
        es = Elasticsearch("http://search")
        def run(doc):
            es.index(index="orders", id=doc["id"], document=doc)
            es.search(index="orders", query={})
     """, {"es.index": "search_index"}),
    ("an unknown client's messages.create is an external call, never a message", """
        from .vendor import make_client
        def run(text):
            client = make_client()
            client.messages.create(text=text)
     """, {"client.messages.create": "external"}),
    ("webhook without a delivery id", """
        import requests
        def run(shop, payload):
            requests.post(shop.webhook_url, json=payload, timeout=5)
     """, {"requests.post": "external/webhook"}),
    ("webhook that carries a delivery id is a plain external call", """
        import requests
        def run(shop, payload, event_id):
            requests.post(shop.webhook_url, json=payload, headers={"X-Delivery-ID": event_id})
     """, {"requests.post": "external"}),
    ("a factory's create() builds an object, not a row; a manager's create() makes one", """
        from .search import SearchEngineFactory
        from .models import Tile
        def run():
            SearchEngineFactory().create()
            Tile.objects.create(data={})
     """, {"Tile.objects.create": "db_create"}),
    ("a hook handed the row is no delete; a row's own delete is", """
        def run(tile, hooks):
            for hook in hooks:
                hook.delete(self, None)
            tile.delete()
     """, {"tile.delete": "db_delete"}),
    ("a search library's bulk helper writes the index", """
        from elasticsearch.helpers import bulk
        def run(client, actions):
            bulk(client, actions)
     """, {"bulk": "search_index"}),
    ("a callback named like a send, passed in or bound from a parameter, is no send", """
        def run(status_callback=None, send_mail=None):
            notify = status_callback if status_callback is not None else lambda _: None
            notify("training...")
            send_mail("done")
     """, {}),
    ("email: a message a project builder made, named as one", """
        from taiga.base.mails import mail_builder
        def run(admins, ctx):
            for admin in admins:
                email = mail_builder.contact_notification(admin.email, ctx)
                email.send()
     """, {"email.send": "send"}),
    ("a signal named after mail calls its receivers: no send", """
        from .signals import register_mail_placeholders
        def run(event):
            register_mail_placeholders.send(sender=event)
     """, {}),
    ("analytics: an event tracked again is counted twice", """
        import rudder_analytics
        def run(instance_id):
            rudder_analytics.track(user_id=instance_id, event="Daily telemetry")
     """, {"rudder_analytics.track": "external/analytics"}),
    ("http: a request sent through a session a with block opens; preparing it sends nothing", """
        import requests
        def run(url, data):
            request = requests.Request("POST", url, data=data)
            prepared = request.prepare()
            with requests.Session() as session:
                session.send(prepared)
     """, {"session.send": "external"}),
    ("a client's settings are no client; a read named by its last word is a read", """
        def run(self, api, path):
            url = self.api_url.format(path)
            api.raw_get(url)
            api.create_issue(url)
     """, {"api.raw_get": "external_read", "api.create_issue": "external"}),
    ("building a client is no call", """
        import stripe
        from openai import OpenAI
        def run():
            OpenAI(api_key="k")
            stripe.StripeClient("k")
     """, {}),
]


@pytest.mark.parametrize("family, source, expected", CASES, ids=[c[0] for c in CASES])
def test_calls_are_placed_by_their_library(family, source, expected):
    assert kinds(source) == expected


def test_an_enqueue_is_inside_a_transaction_unless_on_commit_defers_it():
    module = summarize(textwrap.dedent("""
        from django.db import transaction
        from .tasks2 import notify
        def run(order_id):
            with transaction.atomic():
                notify.delay(order_id)
                transaction.on_commit(lambda: notify.delay(order_id))
            notify.delay(order_id)
    """).encode(), "/p/app/tasks.py", "app.tasks", False)
    fanouts = [(e.line, e.in_atomic) for e in module.functions["run"].effects if e.kind == "fanout"]
    assert fanouts == [(6, True), (7, False), (8, False)]


def test_work_handed_to_on_commit_is_deferred():
    module = summarize(textwrap.dedent("""
        from django.db import connection
        def run(storage, name, notify):
            def delete_from_storage():
                storage.delete(name)
            connection.on_commit(delete_from_storage)
            connection.on_commit(lambda: notify.delay(name))
            notify.delay(name)
            relay(name)
            connection.on_commit(lambda: relay_later(name))
    """).encode(), "/p/app/tasks.py", "app.tasks", False)
    run = module.functions["run"]
    assert [(e.line, e.deferred) for e in run.effects] == [(5, True), (7, True), (8, False)]
    assert run.deferred_calls == ["storage.delete", "relay_later"]  # `notify.delay` also runs before the commit


def test_a_method_of_what_a_call_returned_is_not_a_call_into_the_library():
    assert kinds("""
        import requests
        from .parsing import extract_info_from_partner_api
        def run(url, data):
            requests.get(url, timeout=5).json()
            extract_info_from_partner_api(data).dict()
            requests.post(url, json={}).raise_for_status()
    """) == {"requests.get": "external_read", "requests.post": "external"}


def test_calls_described_as_what_they_do():
    assert kinds("""
        import multiprocessing
        from django.test import Client
        from .models import Payout
        def run(job, payout_id):
            pool = multiprocessing.Pool(2)
            pool.apply_async(len, ([1],))
            with multiprocessing.Pool(2) as workers:
                workers.apply_async(len, ([1],))
            Client().post("/hook/", {})
            job.sample_file.delete()
            fresh = Payout(amount=1)
            fresh.save()
            known = Payout.objects.get(pk=payout_id)
            known.save()
            for due in Payout.objects.filter(amount=0):
                due.save()
            job.save()
    """) == {"job.sample_file.delete": "storage", "fresh.save": "db_save/new_row", "known.save": "db_save/read_row",
             "due.save": "db_save/read_row", "job.save": "db_save"}


def test_a_count_raised_before_a_save_is_counted_again():
    module = summarize(textwrap.dedent("""
        import uuid
        from django.db.models import F
        from .models import Webhook
        def run(webhook, ok, full):
            if ok:
                webhook.failures = 0
                webhook.save()
            elif not full:
                webhook.failures += 1
                webhook.save()
            else:
                webhook.active = False
                webhook.save()
            Webhook.objects.filter(pk=webhook.pk).update(calls=F("calls") + 1)
            Webhook.objects.filter(pk=webhook.pk).update(active=False)
            Webhook.objects.filter(pk=webhook.pk).update(version=str(uuid.uuid4()))
    """).encode(), "/p/app/tasks.py", "app.tasks", False)
    assert [(e.line, e.kind, e.family) for e in module.functions["run"].effects] == [
        (8, "db_save", ""), (11, "db_save", "increment"), (14, "db_save", ""),  # the else branch counts nothing
        (15, "db_update", "increment"), (16, "db_update", ""), (17, "db_update", "volatile"),
    ]


def test_a_save_of_a_fresh_random_value_writes_another_each_run():
    module = summarize(textwrap.dedent("""
        import uuid
        from .files import generate_random_file_name
        def run(job, name):
            job.file_name = generate_random_file_name("csv")
            job.save()
            job.title = name
            job.save()
            token = uuid.uuid4().hex
            job.token = token
            job.save()
    """).encode(), "/p/app/tasks.py", "app.tasks", False)
    assert [(e.line, e.family) for e in module.functions["run"].effects] == [(6, "volatile"), (8, "volatile"), (11, "volatile")]


def test_writes_in_a_block_the_project_rolls_back_do_not_stay():
    assert kinds("""
        from .utils import rolledback_transaction
        def run(event):
            with rolledback_transaction():
                event.save()
            event.refresh_from_db()
            event.delete()
    """) == {"event.delete": "db_delete"}


def test_a_save_of_named_fields_updates_a_row_that_exists():
    module = summarize(textwrap.dedent("""
        def run(email, hits):
            email.status = "sent"
            email.save(update_fields=["status"])
            hits.count += 1
            hits.save(update_fields=["count"])
    """).encode(), "/p/app/tasks.py", "app.tasks", False)
    assert [(e.line, e.family) for e in module.functions["run"].effects] == [(4, "update_fields"), (6, "increment")]
