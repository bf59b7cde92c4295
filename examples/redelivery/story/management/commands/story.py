"""`python manage.py story seed|enqueue|counts`: the data, the messages and the tally of the story.

seed     creates what the tasks work on (once per state directory) and remembers the ids
enqueue  sends one message per task to the broker, as the web app would
counts   prints, as JSON, each task's side effects as the outside world saw them
"""
import json
import re
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Host
from accounts.tasks import send_host_welcome_email
from bookings.locks import VENDOR_JOURNAL
from bookings.models import Reservation
from bookings.tasks import book_smart_lock
from config import journal
from payouts.models import Account, Payout
from payouts.tasks import run_monthly_payout
from wallets.models import LedgerEntry, Wallet
from wallets.tasks import open_wallet

PERIOD = "2026-05"
HOST_EMAIL = "host@example.com"


def _ids_path() -> Path:
    return Path(settings.STATE_DIR) / "story.json"


class Command(BaseCommand):
    help = "Seed, enqueue and count the redelivery story's tasks."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["seed", "enqueue", "counts"])

    def handle(self, action, **options):
        getattr(self, action)()

    def seed(self):
        if _ids_path().exists():
            raise CommandError(f"already seeded: {_ids_path()}")
        User = get_user_model()
        account = Account.objects.create(name="acme-flats", iban="DE89370400440532013000")
        reservation = Reservation.objects.create(
            guest_name="Ada", lock_id="lock-7f3a", starts_on=date(2026, 6, 1), ends_on=date(2026, 6, 5)
        )
        host_user = User.objects.create_user("host", email=HOST_EMAIL, password="initial-password")
        host = Host.objects.create(user=host_user, display_name="Grace")
        # Two users open a wallet: Ada's task is the one stopped and redelivered, Bob's runs once.
        ada = User.objects.create_user("ada", email="ada@example.com")
        bob = User.objects.create_user("bob", email="bob@example.com")
        ids = {"account": account.pk, "reservation": reservation.pk, "host": host.pk, "ada": ada.pk, "bob": bob.pk}
        _ids_path().write_text(json.dumps(ids))
        self.stdout.write(json.dumps(ids))

    def enqueue(self):
        ids = json.loads(_ids_path().read_text())
        results = [
            run_monthly_payout.delay(ids["account"], PERIOD),
            book_smart_lock.delay(ids["reservation"]),
            send_host_welcome_email.delay(ids["host"]),
            open_wallet.delay(ids["ada"]),
            open_wallet.delay(ids["bob"]),
        ]
        self.stdout.write(json.dumps([r.id for r in results]))

    def counts(self):
        ids = json.loads(_ids_path().read_text())
        reservation = Reservation.objects.get(pk=ids["reservation"])
        host = Host.objects.select_related("user").get(pk=ids["host"])
        emails = _emails_to(HOST_EMAIL)
        passwords = [m.group(1) for m in (re.search(r"password: (\S+)", e) for e in emails) if m]
        report = {
            "run_monthly_payout": {
                "payouts": Payout.objects.filter(account_id=ids["account"], period=PERIOD).count(),
            },
            "book_smart_lock": {
                "lock bookings": sum(1 for b in journal.read(VENDOR_JOURNAL) if b["lock_id"] == reservation.lock_id),
            },
            "send_host_welcome_email": {
                "welcome emails": len(emails),
                "emailed passwords that work": sum(host.user.check_password(p) for p in passwords),
            },
            "open_wallet": {
                f"{label} of {name}": count
                for name in ("ada", "bob")
                for label, count in (
                    ("wallets", Wallet.objects.filter(owner_id=ids[name]).count()),
                    ("signup bonuses", LedgerEntry.objects.filter(wallet__owner_id=ids[name], kind="signup_bonus").count()),
                )
            },
        }
        self.stdout.write(json.dumps(report))


def _emails_to(address: str) -> list[str]:
    """The messages the file-based email backend wrote, addressed to `address`."""
    folder = Path(settings.EMAIL_FILE_PATH)
    messages = []
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        for message in path.read_text().split("\n" + "-" * 79 + "\n"):
            if re.search(rf"^To: {re.escape(address)}$", message, re.M):
                messages.append(message)
    return messages
