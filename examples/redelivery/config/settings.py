"""Settings: SQLite in a file, file-based email, a real Redis broker, at-least-once delivery.

Everything a task does lands in files under REDELIVERY_STATE_DIR (the database, sent emails, the
lock vendor's journal), so the counts survive the SIGKILL of the worker that did it.

Environment:
  REDELIVERY_BROKER_URL           redis://127.0.0.1:6379/0 by default (only ever a local Redis)
  REDELIVERY_STATE_DIR            where the database, mail and journals go (default: ./state)
  REDELIVERY_VISIBILITY_TIMEOUT   seconds before Redis hands an unacked message to another worker
  REDELIVERY_CACHE_PREFIX         key prefix of the Django cache (kept in the same Redis)
  IDEMFIX_E2E_HANG_AFTER          task names that stop right after their side effect (config/hang.py)
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("REDELIVERY_STATE_DIR", BASE_DIR / "state"))
STATE_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = "redelivery-example-not-a-secret"
DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "payouts",
    "bookings",
    "accounts",
    "wallets",
    "story",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": STATE_DIR / "db.sqlite3",
        "OPTIONS": {"timeout": 30},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

# One file per sent message batch, written and closed before send_mail() returns.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = STATE_DIR / "mail"

BROKER_URL = os.environ.get("REDELIVERY_BROKER_URL", "redis://127.0.0.1:6379/0")

# Shared by every worker process, like in production (a per-process cache would forget a flag when
# the worker dies).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": BROKER_URL,
        "KEY_PREFIX": os.environ.get("REDELIVERY_CACHE_PREFIX", "redelivery-cache"),
    }
}

CELERY_BROKER_URL = BROKER_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# At-least-once delivery: ack a message only after its task returned, and give it back to the
# broker when the process running it dies. Then a task can run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Redis has no acks of its own: kombu keeps each delivered, unacked message in an `unacked` hash and
# puts it back on the queue once it is older than `visibility_timeout` (1 hour by default), checked
# when a worker starts and then every unacked_restore_interval * unacked_restore_throttle seconds
# (10 * 10 by default). A few seconds make the redelivery of a killed worker's task visible at
# once. Only do that where every task finishes well within the timeout: a task still running when
# it expires is handed to a second worker while the first is still at it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("REDELIVERY_VISIBILITY_TIMEOUT", "5")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
