"""Examples of atomic-multi-create, run as tests by tests/test_rule_examples.py."""

from ..engine.examples import Example

MODELS = """
    from django.db import models


    class Order(models.Model):
        total = models.DecimalField(max_digits=10, decimal_places=2)
        invoiced = models.BooleanField(default=False)


    class Invoice(models.Model):
        order = models.ForeignKey(Order, on_delete=models.CASCADE)
        total = models.DecimalField(max_digits=10, decimal_places=2)


    class InvoiceLine(models.Model):
        invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE)
        label = models.CharField(max_length=40)
"""


def project(tasks: str, **more: str) -> dict[str, str]:
    return {"app/__init__.py": "", "app/models.py": MODELS, "app/tasks.py": tasks, **more}


# A task that checks a state and sets it with its writes: the run can commit as one.
INVOICE_ORDER = """
    from celery import shared_task

    from .models import Invoice, Order


    @shared_task
    def invoice_order(order_id):
        order = Order.objects.get(pk=order_id)
        if order.invoiced:
            return
        Invoice.objects.create(order=order, total=order.total)
        order.invoiced = True
        order.save()
"""
INVOICE_ORDER_WRAPPED = """
    from django.db import transaction
    from celery import shared_task

    from .models import Invoice, Order


    @shared_task
    def invoice_order(order_id):
        order = Order.objects.get(pk=order_id)
        if order.invoiced:
            return
        with transaction.atomic():
            Invoice.objects.create(order=order, total=order.total)
            order.invoiced = True
            order.save()
"""


EXAMPLES = [
    Example(
        "run_that_sets_the_state_it_checks_wrapped",
        project(INVOICE_ORDER),
        "safe",
        "the block sets order.invoiced, which the check at line 9 reads before it",
        fixed={"app/tasks.py": INVOICE_ORDER_WRAPPED},
    ),
    Example(
        "unguarded_writes_narrow_the_crash_window_only",
        project("""
            from celery import shared_task

            from .models import Invoice, Order


            @shared_task
            def invoice_order(order_id):
                order = Order.objects.get(pk=order_id)
                Invoice.objects.create(order=order, total=order.total)
                order.invoiced = True
                order.save()
        """),
        "unsafe",
        "a crash after the commit still repeats the block",
        fixed={"app/tasks.py": """
            from django.db import transaction
            from celery import shared_task

            from .models import Invoice, Order


            @shared_task
            def invoice_order(order_id):
                order = Order.objects.get(pk=order_id)
                with transaction.atomic():
                    Invoice.objects.create(order=order, total=order.total)
                    order.invoiced = True
                    order.save()
        """},
    ),
    Example(
        "enqueue_between_writes_refused",
        project("""
            from celery import shared_task

            from .models import Invoice, Order


            @shared_task
            def render_pdf(invoice_id):
                pass


            @shared_task
            def invoice_order(order_id):
                order = Order.objects.get(pk=order_id)
                if order.invoiced:
                    return
                invoice = Invoice.objects.create(order=order, total=order.total)
                render_pdf.delay(invoice.pk)
                order.invoiced = True
                order.save()
        """),
        "manual",
        "`render_pdf.delay()` (line 17) enqueues a task (it may run before the commit: use transaction.on_commit)",
    ),
    Example(
        "post_save_handler_that_sends_mail_refused",
        project(
            """
                from celery import shared_task

                from .models import Invoice, Order


                @shared_task
                def invoice_order(order_id):
                    order = Order.objects.get(pk=order_id)
                    if order.invoiced:
                        return
                    Invoice.objects.create(order=order, total=order.total)
                    order.invoiced = True
                    order.save()
            """,
            **{"app/signals.py": """
                from django.core.mail import send_mail
                from django.db.models.signals import post_save
                from django.dispatch import receiver

                from .models import Invoice


                @receiver(post_save, sender=Invoice)
                def mail_invoice(sender, instance, created, **kwargs):
                    send_mail("Your invoice", str(instance.total), None, ["billing@example.com"])
            """},
        ),
        "manual",
        "can lead to send_mail() at app/signals.py:10 (post_save/pre_save handler of Invoice)",
    ),
    Example(
        "post_save_handler_that_defers_its_mail_to_on_commit_is_no_refusal",
        project(
            INVOICE_ORDER,
            **{"app/signals.py": """
                from django.core.mail import send_mail
                from django.db import connection
                from django.db.models.signals import post_save
                from django.dispatch import receiver

                from .models import Invoice


                def mail_total(total):
                    send_mail("Your invoice", str(total), None, ["billing@example.com"])


                @receiver(post_save, sender=Invoice)
                def mail_invoice(sender, instance, created, **kwargs):
                    connection.on_commit(lambda: mail_total(instance.total))
            """},
        ),
        "safe",
        "the block sets order.invoiced, which the check at line 9 reads before it",
        fixed={"app/tasks.py": INVOICE_ORDER_WRAPPED},
    ),
    Example(
        "fresh_aggregate_per_run_needs_a_job_guard",
        project("""
            from celery import shared_task

            from .models import Invoice, InvoiceLine, Order


            @shared_task
            def invoice_order(order_id):
                order = Order.objects.get(pk=order_id)
                invoice = Invoice.objects.create(order=order, total=order.total)
                InvoiceLine.objects.create(invoice=invoice, label="total")
        """),
        "manual",
        "it builds a fresh aggregate on every run",
    ),
    Example(
        "writes_already_in_a_transaction_left_alone",
        project("""
            from celery import shared_task
            from django.db import transaction

            from .models import Invoice, Order


            @shared_task
            def invoice_order(order_id):
                order = Order.objects.get(pk=order_id)
                with transaction.atomic():
                    Invoice.objects.create(order=order, total=order.total)
                    order.invoiced = True
                    order.save()
        """),
        None,
        "its writes already run inside a transaction",
    ),
    Example(
        "failure_recorded_by_a_helper_called_from_except_left_to_a_person",
        project("""
            from celery import shared_task

            from .models import Invoice, InvoiceLine, Order


            def record_failed_invoice(order, error):
                invoice = Invoice.objects.create(order=order, total=0)
                InvoiceLine.objects.create(invoice=invoice, label=f"failed: {error}")


            @shared_task
            def invoice_order(order_id):
                order = Order.objects.get(pk=order_id)
                try:
                    order.full_clean()
                except ValueError as error:
                    record_failed_invoice(order, error)
        """),
        "manual",
        "record_failed_invoice is only called while an error is handled (app/tasks.py:17): its writes record a failure",
    ),
]
