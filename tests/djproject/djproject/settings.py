"""Settings: SQLite, locmem email, eager Celery. Everything offline and fast.

The database file comes from IDEMFIX_DB_PATH so that each test run gets its own, outside the
project copy (the copy holds only source, which is what idem-fix rewrites).
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "idem-fix-runtime-tests-not-a-secret"
DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "payments",
    "bookings",
]
# One app per rule's runtime scenario, each owning its models and tasks; listed when present.
INSTALLED_APPS += [app for app in ("ledger", "partners", "onboarding") if (BASE_DIR / app).is_dir()]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("IDEMFIX_DB_PATH", str(BASE_DIR / "db.sqlite3")),
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# A cache every worker shares (the database), as sent-flag's claims need: the runtime driver creates its table.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "idem_fix_cache"}}

CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
# A task's exception reaches its caller, like a worker crash reaches the broker (no ack).
CELERY_TASK_EAGER_PROPAGATES = True
