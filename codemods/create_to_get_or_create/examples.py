"""Examples of create-to-get-or-create, run as tests by tests/test_rule_examples.py."""

from ..engine.examples import Example

MODELS = """
    from django.db import models


    class Account(models.Model):
        email = models.EmailField(unique=True)


    class Payout(models.Model):
        account = models.ForeignKey(Account, on_delete=models.CASCADE)
        period = models.CharField(max_length=7)
        amount = models.DecimalField(max_digits=10, decimal_places=2)

        class Meta:
            unique_together = ("account", "period")


    class Voucher(models.Model):
        code = models.CharField(max_length=12, primary_key=True)
        account = models.ForeignKey(Account, on_delete=models.CASCADE)


    class Transfer(models.Model):
        account = models.ForeignKey(Account, on_delete=models.CASCADE)
        reference = models.CharField(max_length=40)
        amount = models.DecimalField(max_digits=10, decimal_places=2)


    class StatusChange(models.Model):
        account = models.ForeignKey(Account, on_delete=models.CASCADE)
        status = models.CharField(max_length=20)
"""


def project(tasks: str, pyproject: str = "") -> dict[str, str]:
    files = {"app/__init__.py": "", "app/models.py": MODELS, "app/tasks.py": tasks}
    if pyproject:
        files["pyproject.toml"] = pyproject
    return files


EXAMPLES = [
    Example(
        "fk_id_keyword_of_the_constraint_stays_in_the_lookup",
        project("""
            from celery import shared_task

            from .models import Payout


            @shared_task
            def pay(account_id, period, amount):
                Payout.objects.create(account_id=account_id, period=period, amount=amount)
        """),
        "safe",
        "keyed on Payout.unique_together (account, period); values from the task's arguments",
        fixed={"app/tasks.py": """
            from celery import shared_task

            from .models import Payout


            @shared_task
            def pay(account_id, period, amount):
                Payout.objects.get_or_create(account_id=account_id, period=period, defaults={"amount": amount})
        """},
    ),
    Example(
        "pk_keyword_is_the_primary_key",
        project("""
            from celery import shared_task

            from .models import Voucher


            @shared_task
            def issue(code, account_id):
                Voucher.objects.create(pk=code, account_id=account_id)
        """),
        "safe",
        "keyed on Voucher.code (unique=True)",
        fixed={"app/tasks.py": """
            from celery import shared_task

            from .models import Voucher


            @shared_task
            def issue(code, account_id):
                Voucher.objects.get_or_create(pk=code, defaults={"account_id": account_id})
        """},
    ),
    Example(
        "lookup_override_from_now_refused",
        project("""
            from celery import shared_task
            from django.utils import timezone

            from .models import Transfer


            @shared_task
            def move(account_id, amount):
                Transfer.objects.create(account_id=account_id, reference=str(timezone.now()), amount=amount)
        """, '[tool.idem-fix.lookups]\n"app.Transfer" = ["account", "reference"]\n'),
        "manual",
        "keys on reference, which comes from timezone.now(), which differs between runs",
    ),
    Example(
        "lookup_override_naming_a_field_the_call_does_not_pass_refused",
        project("""
            from celery import shared_task

            from .models import Transfer


            @shared_task
            def move(account_id, amount):
                Transfer.objects.create(account_id=account_id, amount=amount)
        """, '[tool.idem-fix.lookups]\n"app.Transfer" = ["account", "reference"]\n'),
        "manual",
        "names reference, which this call does not pass",
    ),
    Example(
        "project_query_names_the_identity_as_a_guess",
        project("""
            from celery import shared_task

            from .models import Transfer


            @shared_task
            def move(account_id, reference, amount):
                Transfer.objects.create(account_id=account_id, reference=reference, amount=amount)


            def find(account_id, reference):
                return Transfer.objects.filter(account_id=account_id, reference=reference).first()
        """),
        "unsafe",
        "the project looks its rows up by (account, reference) at app/tasks.py:12, and the task's own arguments (amount) stay",
        fixed={"app/tasks.py": """
            from celery import shared_task

            from .models import Transfer


            @shared_task
            def move(account_id, reference, amount):
                Transfer.objects.get_or_create(account_id=account_id, reference=reference, amount=amount)


            def find(account_id, reference):
                return Transfer.objects.filter(account_id=account_id, reference=reference).first()
        """},
    ),
    Example(
        "listing_query_is_not_an_identity",
        project("""
            from celery import shared_task

            from .models import Transfer


            @shared_task
            def move(account_id, reference, amount):
                Transfer.objects.create(account_id=account_id, reference=reference, amount=amount)


            def history(account_id):
                return Transfer.objects.filter(account_id=account_id)
        """),
        "manual",
        "no unique constraint on Transfer covers this call",
    ),
    Example(
        "append_only_history_row_left_to_a_person",
        project("""
            from celery import shared_task

            from .models import StatusChange


            @shared_task
            def record(account_id, status):
                StatusChange.objects.create(account_id=account_id, status=status)
        """),
        "manual",
        "StatusChange rows look appended on purpose",
    ),
    Example(
        "first_then_create_when_missing_left_alone",
        project("""
            from celery import shared_task

            from .models import Transfer


            @shared_task
            def move(account_id, reference, amount):
                existing = Transfer.objects.filter(account_id=account_id, reference=reference).first()
                if existing is None:
                    Transfer.objects.create(account_id=account_id, reference=reference, amount=amount)
        """),
        None,
        "already guarded by `if existing is None`",
    ),
    Example(
        "row_locked_then_deleted_in_the_same_transaction_left_alone",
        project("""
            from celery import shared_task
            from django.db import transaction

            from .models import StatusChange, Transfer


            @shared_task
            def settle(change_id, reference, amount):
                with transaction.atomic():
                    change = StatusChange.objects.select_for_update().get(pk=change_id)
                    Transfer.objects.create(account_id=change.account_id, reference=reference, amount=amount)
                    change.delete()
        """),
        None,
        "the row `change` is locked with select_for_update() (line 10) and deleted in the same transaction",
    ),
    Example(
        "row_locked_on_a_state_the_transaction_changes_left_alone",
        project("""
            from celery import shared_task
            from django.db import transaction

            from .models import StatusChange, Transfer


            @shared_task
            @transaction.atomic
            def settle(change_id, reference, amount):
                change = StatusChange.objects.select_for_update().get(pk=change_id, status="pending")
                Transfer.objects.create(account_id=change.account_id, reference=reference, amount=amount)
                change.status = "settled"
                change.save(update_fields=["status"])
        """),
        None,
        "locked with select_for_update() (line 10) on status, which the same transaction changes",
    ),
    Example(
        "locked_row_left_as_it_was_is_no_guard",
        project("""
            from celery import shared_task
            from django.db import transaction

            from .models import StatusChange, Transfer


            @shared_task
            def settle(change_id, reference, amount):
                with transaction.atomic():
                    change = StatusChange.objects.select_for_update().get(pk=change_id)
                    Transfer.objects.create(account_id=change.account_id, reference=reference, amount=amount)
                    change.status = "settled"
                    change.save(update_fields=["status"])
        """),
        "manual",
        "no unique constraint on Transfer covers this call",
    ),
    Example(
        "new_row_on_purpose_beside_get_or_create_left_to_a_person",
        project("""
            from celery import shared_task

            from .models import Transfer


            @shared_task
            def move(account_id, reference, amount, split):
                if split:
                    Transfer.objects.create(account_id=account_id, reference=reference, amount=amount)
                else:
                    Transfer.objects.get_or_create(account_id=account_id, reference=reference, defaults={"amount": amount})
        """),
        "manual",
        "the other branch of the `if` on line 8 finds or creates Transfer with get_or_create() (line 11), so this branch makes a new row on purpose",
    ),
    Example(
        "lookup_seen_only_in_a_test_is_no_evidence",
        {
            **project("""
                from celery import shared_task

                from .models import Transfer


                @shared_task
                def move(account_id, reference, amount):
                    Transfer.objects.create(account_id=account_id, reference=reference, amount=amount)
            """),
            "app/tests/__init__.py": "",
            "app/tests/test_tasks.py": """
                from app.models import Transfer
                from app.tasks import move


                def test_move_makes_a_transfer():
                    move(1, "r-1", 5)
                    assert Transfer.objects.get(account_id=1, reference="r-1").amount == 5
            """,
        },
        "manual",
        "no unique constraint on Transfer covers this call, and no query in the project says which fields identify its rows",
    ),
]
