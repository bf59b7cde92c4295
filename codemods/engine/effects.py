"""What a call does to the world, judged from how it is written: the side effects a redelivered task repeats.

Kinds:
  db_create      Model.objects.create / bulk_create (and async forms), related-manager creates
  db_upsert      get_or_create / update_or_create: already idempotent
  db_save        obj.save()
  db_update      queryset .update()
  db_delete      .delete()
  send           email, SMS, push, Slack messages
  credential     password and credential changes
  external       calls into an external system: HTTP, payment, cloud and messaging SDKs, project API clients
  external_read  the same for reads (get, list, retrieve, ...): safe to repeat
  fanout         .delay() / .apply_async() / send_task(): more tasks
  storage        files: default_storage / FieldFile save and delete, os.remove / rename, shutil moves
  cache          Django's cache and Redis: set, add, delete, incr, locks ... (keyed: idempotent by nature)
  search_index   a search index write (elasticsearch, opensearch, meilisearch, algolia, ...): keyed by id

An external call's family says more when its library is known (Effect.family): "payment" for a payment
provider's SDK (stripe, braintree, adyen, paypal, ...: money moves), "paid_call" for an API billed per
call (openai, anthropic, cohere, google genai, ...: a redelivery pays again), "analytics" for an event
tracker (rudderstack, mixpanel, posthog, ...: a redelivery records the event twice). The rules see them as
the external calls they are.

A call is placed by the library it comes from (its import, or the class a name was built from: `client =
Anthropic()`) before its verb: `client.messages.create(...)` is an SMS for twilio and a paid completion for
anthropic; on a client of no known library it is an external call, never a message.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import hashlib
import re

from .names import dotted, root_name

EXTERNAL_LIBRARIES = frozenset(
    {
        "requests", "httpx", "urllib3", "aiohttp", "stripe", "boto3", "botocore", "twilio", "slack_sdk",
        "sendgrid", "googleapiclient", "google", "paypalrestsdk", "braintree", "mollie", "adyen",
        "hubspot", "mailchimp3", "salesforce", "simple_salesforce", "zeep", "suds", "ovh",
    }
)
# Calls into these stay in the process: no side effect a redelivery repeats outside it.
IN_PROCESS = ("multiprocessing", "concurrent.futures", "django.test")
# What a library's calls do, by the package they come from (dotted prefixes).
LIBRARY_KINDS = {
    **dict.fromkeys(("anymail", "sendgrid", "postmarker", "mailchimp_transactional", "mailjet_rest", "twilio", "vonage", "nexmo",
                     "messagebird", "plivo", "firebase_admin", "pyfcm", "apns2", "exponent_server_sdk", "pywebpush", "onesignal_sdk",
                     "slack_sdk", "slack", "discord", "discord_webhook", "telegram", "mattermostdriver", "pymsteams"), "send"),
    **dict.fromkeys(("stripe", "braintree", "Adyen", "adyen", "paypalrestsdk", "paypalcheckoutsdk", "mollie", "square",
                     "razorpay", "gocardless_pro"), "payment"),
    **dict.fromkeys(("openai", "anthropic", "cohere", "mistralai", "groq", "replicate", "litellm", "google.generativeai",
                     "google.genai", "vertexai"), "paid_call"),
    **dict.fromkeys(("redis", "django_redis", "valkey"), "cache"),
    **dict.fromkeys(("elasticsearch", "opensearchpy", "meilisearch", "algoliasearch", "typesense", "pysolr"), "search_index"),
    **dict.fromkeys(("rudder_analytics", "rudderstack", "mixpanel", "posthog", "amplitude", "segment.analytics"), "analytics"),
    **dict.fromkeys(("djmail", "post_office", "templated_email", "mail_templated"), "send"),
}
KEYED_WRITES = frozenset({  # redis and cache calls that change state, all keyed: repeating one gives the same state
    "set", "setex", "setnx", "psetex", "mset", "msetnx", "getset", "delete", "unlink", "expire", "expireat", "pexpire", "persist",
    "incr", "incrby", "decr", "decrby", "hset", "hmset", "hdel", "hsetnx", "sadd", "srem", "zadd", "zrem", "lpush", "rpush",
    "lrem", "ltrim", "publish", "xadd", "acquire", "release", "extend", "add", "touch", "set_many", "delete_many",
})
INDEX_WRITES = frozenset({"index", "create", "update", "delete", "bulk", "streaming_bulk", "parallel_bulk", "save_object", "save_objects", "add_documents",
                          "update_documents", "delete_document", "delete_documents", "upsert", "add", "partial_update_object"})
CLIENT_WORDS = frozenset({"client", "clients", "api", "apis", "gateway", "sdk", "wrapper", "connector"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")
SEND_FUNCTIONS = frozenset(
    {
        "send_mail", "send_mass_mail", "mail_admins", "mail_managers", "send_html_mail", "send_templated_mail",
        "send_sms", "send_push", "send_push_notification", "send_notification", "chat_postMessage",
        "send_each", "send_multicast", "send_each_for_multicast", "send_message", "send_bulk_sms",
    }
)
SEND_HELPER = re.compile(r"^(send_\w*(email|mail|sms|push|slack|message|notification)\w*|notify\w*)$")
_SEND_HELPER_STARTS = ("send_", "notify")  # what every SEND_HELPER name starts with: most calls skip the regex
EMAIL_CLASSES = frozenset({"EmailMessage", "EmailMultiAlternatives", "AnymailMessage"})
CREDENTIAL_METHODS = frozenset({"set_password", "set_unusable_password", "make_password", "update_session_auth_hash", "rotate_token", "reset_password"})
QUERYSET_HINTS = (".objects", ".filter(", ".exclude(", ".all(", "_set.", ".select_for_update(")
CREATE_METHODS = {"create": "db_create", "acreate": "db_create", "bulk_create": "db_create", "abulk_create": "db_create",
                  "get_or_create": "db_upsert", "aget_or_create": "db_upsert", "update_or_create": "db_upsert",
                  "aupdate_or_create": "db_upsert"}
CLIENT_FACTORIES = frozenset({"client", "resource", "session", "connect", "build", "from_service_account_file"})
BUILT_LOCALLY = frozenset({"prepare", "prepare_request", "mount"})  # `requests.Request(...).prepare()`: nothing is sent yet
READ_VERB = re.compile(r"^(get|head|options|list|retrieve|fetch|describe|read|search|find|query|lookup|check|validate|verify|count|download)(_|$)|_(get|fetch|read|download)$")
NOT_EXTERNAL_METHODS = frozenset({"get_or_create", "update_or_create", "filter", "exclude", "all", "first", "last"})
CACHE_WRITES = frozenset({"set", "add", "delete", "incr", "decr", "set_many", "delete_many", "touch", "clear", "get_or_set"})
FILE_FUNCTIONS = frozenset({"os.remove", "os.unlink", "os.rename", "os.replace", "os.rmdir", "shutil.move", "shutil.copy", "shutil.copyfile", "shutil.copy2", "shutil.rmtree"})
FILE_FIELD_WORDS = frozenset({"file", "image", "photo", "avatar", "picture", "document", "attachment", "upload", "thumbnail", "logo", "pdf"})


# What a project may declare a call to be in [tool.idem-fix.effects]: the kind (and family) it then has.
DECLARABLE = {
    "send": ("send", ""), "credential": ("credential", ""), "external": ("external", ""), "payment": ("external", "payment"),
    "paid_call": ("external", "paid_call"), "webhook": ("external", "webhook"), "read": ("external_read", ""),
    "fanout": ("fanout", ""), "none": None,
}
_declared: tuple[tuple[str, str], ...] = ()  # (glob, what) of the project being read; forked workers inherit it


def declare(table: dict[str, str]) -> str:
    """Read calls as [tool.idem-fix.effects] says (`"billing.gateway.*" = "payment"`: globs on the callee as
    imported or as written) from now on, in this process and the workers it forks; the digest keys the
    summary cache, so summaries made under another table are not reused."""
    global _declared
    _declared = tuple(sorted(table.items()))
    return hashlib.sha256(repr(_declared).encode()).hexdigest()[:16] if _declared else ""


def _declared_kind(func: ast.expr, imports: dict[str, str], receiver, text_of):
    """The project's word on this call: (kind, receiver[, family]), None for "none", False when it says nothing."""
    written = dotted(func)
    if not written:
        return False
    head, _, rest = written.partition(".")
    imported = imports.get(head, head) + (f".{rest}" if rest else "")
    for glob, what in _declared:
        if fnmatch.fnmatchcase(imported, glob) or fnmatch.fnmatchcase(written, glob):
            kind = DECLARABLE[what]
            if kind is None:
                return None
            return (kind[0], _text(receiver, text_of), kind[1]) if kind[1] else (kind[0], _text(receiver, text_of))
    return False


def classify(
    call: ast.Call, imports: dict[str, str], text_of, email_names: set[str], types: dict[str, str] | None = None,
) -> tuple[str, str] | tuple[str, str, str] | None:
    """(kind, receiver text[, family]) for a call with a side effect, else None.

    `text_of` gives a node's source; `email_names` are local names bound to EmailMessage(...) objects;
    `types` names bound to a class's instance (`client = Anthropic()`). Most calls have no effect, so the
    receiver's text is only read when it is needed. What the project declares comes first.
    """
    func = call.func
    if _declared:
        said = _declared_kind(func, imports, func.value if isinstance(func, ast.Attribute) else None, text_of)
        if said is not False:
            return said
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    receiver = func.value if isinstance(func, ast.Attribute) else None
    root = root_name(func) or ""
    origin = library_of(root, imports, types) if receiver is not None and types is not None else (
        imports.get(root, "") if receiver is not None else ""
    )
    if receiver is None and name in INDEX_WRITES and library_kind(imports.get(root, "")) == "search_index":
        return "search_index", ""  # `from elasticsearch.helpers import bulk`: `bulk(client, actions)`
    if origin:
        if origin.startswith(IN_PROCESS):
            return None  # a process pool, Django's test client: nothing leaves the process
        family = library_kind(origin)
        # a Redis call's result is Redis too (a lock, a pipeline); a response's .json() is not the library's call
        if family and (family == "cache" or not _on_a_result(receiver)):
            return _library_call(family, name, receiver, text_of)

    if name in SEND_FUNCTIONS or (name.startswith(_SEND_HELPER_STARTS) and SEND_HELPER.match(name)):
        return "send", _text(receiver, text_of)
    if name == "send" and receiver is not None:
        if isinstance(receiver, ast.Call) and (dotted(receiver.func) or "").rsplit(".", 1)[-1] in EMAIL_CLASSES:
            return "send", text_of(receiver)
        if isinstance(receiver, ast.Name) and (receiver.id in email_names or receiver.id == "post_office" or _names_a_mail(receiver.id)):
            return "send", text_of(receiver)  # `email = mail_builder.welcome(user.email, ctx); email.send()`
    if name in CREDENTIAL_METHODS:
        return "credential", _text(receiver, text_of)
    kind = _storage_or_cache(call, name, receiver, imports)
    if kind:
        return kind, _text(receiver, text_of)
    if name in {"delay", "apply_async", "send_task"}:
        return "fanout", _text(receiver, text_of)
    if ((root in imports and imports[root].split(".")[0] in EXTERNAL_LIBRARIES) or origin.split(".")[0] in EXTERNAL_LIBRARIES or (
        receiver is not None and name not in NOT_EXTERNAL_METHODS and _names_a_client(receiver)
    )) and not (receiver is not None and _on_a_result(receiver)):
        if name[:1].isupper() or name in CLIENT_FACTORIES or name in BUILT_LOCALLY or (name.startswith("get_") and names_a_client(name)):
            return None  # building a client (or a request to send later) is not calling it
        if READ_VERB.search(name):
            return "external_read", _text(receiver, text_of)
        if name in {"post", "put", "patch", "request"} and _webhook_without_delivery_id(call, text_of):
            return "external", _text(receiver, text_of), "webhook"
        return "external", _text(receiver, text_of)
    if name in CREATE_METHODS and receiver is not None and not _built_here(receiver):
        return CREATE_METHODS[name], text_of(receiver)
    if name in {"save", "asave"} and receiver is not None and not call.args:
        built = (types or {}).get(receiver.id, "") if isinstance(receiver, ast.Name) else ""
        # `row = Model(...); row.save()` inserts a new row on every run
        return ("db_save", text_of(receiver), "new_row") if built.rsplit(".", 1)[-1][:1].isupper() else ("db_save", text_of(receiver))
    if name in {"update", "aupdate"}:
        receiver_text = _text(receiver, text_of)
        if any(h in receiver_text + "." for h in QUERYSET_HINTS):
            return "db_update", receiver_text
    if name in {"delete", "adelete"} and receiver is not None and not _hands_itself_on(call):
        return "db_delete", text_of(receiver)
    return None


def _hands_itself_on(call: ast.Call) -> bool:
    """`function.delete(self, request)`: an object handing itself to a hook of that name, not a row's delete
    (whose arguments are `using` and `keep_parents`)."""
    return bool(call.args) and isinstance(call.args[0], ast.Name) and call.args[0].id == "self"


def _built_here(receiver: ast.AST) -> bool:
    """`SearchEngineFactory().create()`: a method of an object a constructor just built, not a manager (those
    are reached as attributes: `Model.objects`, `row.items`, `Model._default_manager`)."""
    return isinstance(receiver, ast.Call) and (dotted(receiver.func) or "").rsplit(".", 1)[-1][:1].isupper()


WEBHOOK = re.compile(r"web_?hook|hook_url|callback_url", re.IGNORECASE)
DELIVERY_ID = re.compile(r"idempot|deliver|event.?id|message.?id|request.?id|dedup", re.IGNORECASE)


HTTP_WRITES = frozenset({"post", "put", "patch", "request"})
# An endpoint named as a check: a path segment such as /check/, /.update_check/, /status, /verify/ (not /checkout/).
CHECK_ENDPOINT = re.compile(r"/[._]?(\w*[_-])?(check|status|verify|validate|lookup|search|query|ping|health|heartbeat)(/|[\"'?]|$)")


def url_argument(call: ast.Call) -> ast.AST | None:
    """The URL an HTTP call is given: `requests.post(url)`, `urllib3.request("POST", url)`, `url=...`."""
    named = next((k.value for k in call.keywords if k.arg == "url"), None)
    if named is not None or not call.args:
        return named
    method = call.args[0]
    if len(call.args) > 1 and method.__class__ is ast.Constant and str(method.value).upper() in {"POST", "PUT", "PATCH", "GET", "DELETE"}:
        return call.args[1]
    return method


def _webhook_without_delivery_id(call: ast.Call, text_of) -> bool:
    """An HTTP post to a webhook URL whose headers carry no id a receiver could drop a repeat by."""
    url = url_argument(call)
    if url is None or not WEBHOOK.search(text_of(url)):
        return False
    headers = next((k.value for k in call.keywords if k.arg == "headers"), None)
    return headers is None or not DELIVERY_ID.search(text_of(headers))


def library_of(root: str, imports: dict[str, str], types: dict[str, str]) -> str:
    """The dotted origin of a call's root name: its import, or the import of the class it was built from."""
    if root in imports:
        return imports[root]
    built = types.get(root, "")
    head = built.split(".")[0]
    return f"{imports[head]}{built[len(head):]}" if head in imports else ""


def library_kind(origin: str) -> str:
    """The kind of calls into the library `origin` comes from ("" for one not known here)."""
    if not origin:
        return ""
    top = origin.split(".")[0]
    if top in LIBRARY_KINDS:
        return LIBRARY_KINDS[top]
    two = ".".join(origin.split(".")[:2])
    return LIBRARY_KINDS.get(two, "")


def _library_call(family: str, name: str, receiver: ast.AST, text_of) -> tuple[str, str] | tuple[str, str, str] | None:
    """A call on a known library's module or client: building a client is nothing; a read is a read."""
    if name[:1].isupper() or name in CLIENT_FACTORIES:
        return None
    if family == "cache":
        return ("cache", text_of(receiver)) if name in KEYED_WRITES else None
    if family == "search_index":
        return ("search_index", text_of(receiver)) if name in INDEX_WRITES else None
    if READ_VERB.search(name) and family != "paid_call":  # a completion is billed whatever its verb
        return "external_read", text_of(receiver)
    if family in {"payment", "paid_call", "analytics"}:
        return "external", text_of(receiver), family
    return family, text_of(receiver)


def _storage_or_cache(call: ast.Call, name: str, receiver: ast.AST | None, imports: dict[str, str]) -> str:
    """Writes no transaction takes back: files (storages, a FileField's file, os and shutil) and the cache."""
    written = dotted(call.func) or ""
    head = written.split(".")[0]
    if f"{imports.get(head, head)}{written[len(head):]}" in FILE_FUNCTIONS:
        return "storage"
    if receiver is None or name not in {"save", "delete", *CACHE_WRITES}:
        return ""
    last = receiver.attr if isinstance(receiver, ast.Attribute) else receiver.id if isinstance(receiver, ast.Name) else ""
    if name in {"save", "delete"} and (last.endswith("storage") or (call.args and any(w in FILE_FIELD_WORDS for w in last.lower().split("_")))):
        return "storage"  # default_storage.save(name, content), order.invoice_pdf.save(name, content)
    if name == "delete" and isinstance(receiver, ast.Attribute) and _names_a_file(last):
        return "storage"  # job.sample_file.delete(): a FieldFile's stored file, not a row
    cache = last == "cache" or (isinstance(receiver, ast.Subscript) and (dotted(receiver.value) or "").endswith("caches"))
    if name in CACHE_WRITES and cache and imports.get(head, head).startswith(("django.core.cache", "cache", "caches")):
        return "cache"
    return ""


def _on_a_result(receiver: ast.AST) -> bool:
    """Whether the call is a method of what an earlier call returned (`requests.get(url).json()`,
    `parse(data).dict()`): the library was called by that call, not by this one. A constructor or a
    client factory in the chain (`OpenAI().chat.completions.create`, `boto3.client("s3").put_object`)
    still hands back the library's client."""
    node = receiver
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        if isinstance(node, ast.Call):
            last = (dotted(node.func) or "").rsplit(".", 1)[-1]
            if last and not (last[:1].isupper() or last in CLIENT_FACTORIES or (last.startswith("get_") and names_a_client(last))):
                return True
            node = node.func
        else:
            node = node.value
    return False


def _names_a_mail(identifier: str) -> bool:
    """`mail`, `email`, `welcome_email`: a name for a message built to be sent (not `register_mail_placeholders`,
    a signal whose `.send()` calls receivers)."""
    words = _WORD.findall(identifier)
    return bool(words) and words[-1].lower() in {"mail", "email"}


def _names_a_file(attribute: str) -> bool:
    """`sample_file`, `downloadfile`, `invoice_pdf`: an attribute that holds a stored file."""
    lowered = attribute.lower()
    return any(word in FILE_FIELD_WORDS for word in lowered.split("_")) or lowered.endswith("file")


def _text(receiver: ast.AST | None, text_of) -> str:
    return text_of(receiver) if receiver is not None else ""


def _names_a_client(receiver: ast.AST) -> bool:
    """`keyless_client_wrapper`, `self.api`, `get_ovh_client()`, `PartnerGateway(...)`."""
    node = receiver
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        if isinstance(node, ast.Attribute):
            if names_a_client(node.attr):
                return True
            node = node.value
        elif isinstance(node, ast.Name):
            return names_a_client(node.id)
        else:
            return False


# The last word of a name for a value a client is configured with, not the client: `api_url`, `client_id`.
CLIENT_SETTINGS = frozenset({"url", "urls", "uri", "key", "keys", "id", "ids", "secret", "token", "name", "host", "version", "path", "base", "endpoint", "timeout"})


@functools.lru_cache(maxsize=4096)  # the same few names (self, objects, client ...) come back call after call
def names_a_client(identifier: str) -> bool:
    """Whether a name has a word like client, api or gateway in it (`ovh_client`, `PartnerAPI`, `api`), and is
    not a setting of one (`self.api_url.format(...)` formats a string)."""
    words = [word.lower() for word in _WORD.findall(identifier)]
    return any(word in CLIENT_WORDS for word in words) and words[-1] not in CLIENT_SETTINGS
