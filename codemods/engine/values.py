"""Names that tell how a value behaves between two runs of a task: calls whose result differs every
time, calls that count what a first run changed, and calls whose result is made from their arguments.
Shared by the summaries (volatile create arguments) and `provenance`."""

from __future__ import annotations

import re

VOLATILE_CALLS = frozenset(
    {
        "now", "utcnow", "today", "localtime", "localdate", "time", "time_ns", "monotonic",
        "perf_counter", "uuid1", "uuid4", "uuid6", "uuid7", "getrandbits", "randbits", "random",
        "randint", "randrange", "choice", "choices", "sample", "uniform", "token_hex",
        "token_urlsafe", "token_bytes", "urandom", "get_random_string", "make_random_password",
        "Now", "ulid", "new_ulid", "shortuuid", "nanoid",
    }
)
VOLATILE_MODULES = frozenset({"random", "secrets", "uuid"})
# Values a first run's own rows change: counting or aggregating rows, asking a sequence for the next number.
SEQUENCE_CALLS = frozenset({"count", "acount", "aggregate", "aaggregate", "nextval", "next_value", "next_number"})
# Calls whose result is made from their arguments (and receiver): stable arguments, stable result.
VALUE_TRANSFORMS = frozenset(
    {
        "str", "int", "float", "bool", "repr", "format", "hex", "bytes", "join", "strftime", "isoformat", "date",
        "timestamp", "hexdigest", "digest", "lower", "upper", "replace", "encode", "decode", "strip", "zfill",
        "slugify", "sha256", "md5", "sha1", "b64encode", "urlsafe_b64encode", "dumps", "quote", "round", "len",
        "Decimal", "tuple", "list", "sorted", "frozenset", "set", "dict", "get", "title", "capitalize", "split",
        "parse_datetime", "parse_date", "parse_time", "parse_duration", "fromisoformat", "strptime", "fromtimestamp",
        "loads", "casefold", "normalize", "abs", "min", "max", "sum", "rstrip", "lstrip", "removeprefix", "removesuffix",
        "enumerate", "reversed", "iter", "zip",
    }
)

# The run's time in code (`timezone.now()`, `datetime.utcnow()`): a value each run writes anew, later.
RUN_TIME = re.compile(r"\b(utc)?now\(")
