"""Examples of sent-flag, run as tests by tests/test_rule_examples.py."""

from ..engine.examples import Example

MODELS = """
    from django.db import models


    class Guest(models.Model):
        email = models.EmailField()
        welcomed_at = models.DateTimeField(null=True)
"""
REDIS = 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://cache:6379"}}\n'


def project(tasks: str, settings: str = REDIS) -> dict[str, str]:
    return {"app/__init__.py": "", "app/models.py": MODELS, "app/settings.py": settings, "app/tasks.py": tasks}


ONBOARDING = """
    from celery import shared_task
    from django.core.mail import send_mail

    from .models import Guest


    @shared_task
    def send_onboarding_email(guest_id):
        guest = Guest.objects.get(pk=guest_id)
        send_mail("Welcome aboard", "Here is how your stay works.", "hello@example.com", [guest.email])
"""
CLAIMED = """
    from django.core.cache import cache
    from celery import shared_task
    from django.core.mail import send_mail

    from .models import Guest


    @shared_task
    def send_onboarding_email(guest_id):
        guest = Guest.objects.get(pk=guest_id)
        if send_onboarding_email.request.id and not cache.add(f"sent-flag:app.tasks.send_onboarding_email:{send_onboarding_email.request.id}", True, timeout=60 * 60 * 24 * 7):
            return
        send_mail("Welcome aboard", "Here is how your stay works.", "hello@example.com", [guest.email])
"""
RETRIED_IN_A_HELPER = """
    from contextlib import contextmanager
    from smtplib import SMTPServerDisconnected

    from celery import shared_task
    from django.core.mail import send_mail

    from .models import Guest


    @contextmanager
    def retried_on_disconnect(task):
        try:
            yield
        except SMTPServerDisconnected as error:
            raise task.retry(exc=error, countdown=60)


    @shared_task(bind=True)
    def send_onboarding_email(self, guest_id):
        guest = Guest.objects.get(pk=guest_id)
        with retried_on_disconnect(self):
            send_mail("Welcome aboard", "Here is how your stay works.", "hello@example.com", [guest.email])
"""
RETRIED_IN_A_HELPER_MARKED = """
    from django.core.cache import cache
    from contextlib import contextmanager
    from smtplib import SMTPServerDisconnected

    from celery import shared_task
    from django.core.mail import send_mail

    from .models import Guest


    @contextmanager
    def retried_on_disconnect(task):
        try:
            yield
        except SMTPServerDisconnected as error:
            raise task.retry(exc=error, countdown=60)


    @shared_task(bind=True)
    def send_onboarding_email(self, guest_id):
        guest = Guest.objects.get(pk=guest_id)
        if self.request.id and cache.get(f"sent-flag:app.tasks.send_onboarding_email:{self.request.id}"):
            return
        with retried_on_disconnect(self):
            send_mail("Welcome aboard", "Here is how your stay works.", "hello@example.com", [guest.email])
        if self.request.id:
            cache.set(f"sent-flag:app.tasks.send_onboarding_email:{self.request.id}", True, timeout=60 * 60 * 24 * 7)
"""

EXAMPLES = [
    Example(
        "message_claimed_in_a_shared_cache",
        project(ONBOARDING),
        "safe",
        "the claim is on the message's own task id, in a cache every worker shares",
        fixed={"app/tasks.py": CLAIMED},
    ),
    Example(
        "per_process_cache_makes_the_claim_a_guess",
        project(ONBOARDING, settings="DEBUG = True\n"),
        "unsafe",
        "Django's default LocMemCache keeps a separate claim in each worker process",
        fixed={"app/tasks.py": CLAIMED},
    ),
    Example(
        "retry_in_a_helper_the_task_is_handed_to_marks_after_the_send",
        project(RETRIED_IN_A_HELPER),
        "safe",
        "the claim is on the message's own task id",
        fixed={"app/tasks.py": RETRIED_IN_A_HELPER_MARKED},
    ),
    Example(
        "retry_after_the_send_left_to_a_person",
        project("""
            from celery import shared_task
            from django.core.mail import send_mail

            from .models import Guest


            @shared_task(bind=True, max_retries=5)
            def send_onboarding_email(self, guest_id):
                guest = Guest.objects.get(pk=guest_id)
                delivered = send_mail("Welcome aboard", "Here is how your stay works.", "hello@example.com", [guest.email], fail_silently=True)
                if not delivered:
                    self.retry(countdown=60)
        """),
        "manual",
        "it calls self.retry() (line 12): a retry keeps the task id, so a mark set after line 10 would stop it at the check",
    ),
    Example(
        "locmem_cache_in_settings_is_per_process",
        project(ONBOARDING, settings='CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n'),
        "unsafe",
        "the default cache is django.core.cache.backends.locmem.LocMemCache (app/settings.py:1), which workers do not share",
        fixed={"app/tasks.py": CLAIMED},
    ),
    Example(
        "cache_chosen_by_the_environment_is_a_guess",
        project(ONBOARDING, settings="""
            import os

            if os.environ.get("MEMCACHE_SERVERS"):
                CACHES = {"default": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache"}}
            else:
                CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        """),
        "unsafe",
        "the default cache depends on the environment: django.core.cache.backends.memcached.PyMemcacheCache (app/settings.py:4) or "
        "django.core.cache.backends.locmem.LocMemCache (app/settings.py:6)",
        fixed={"app/tasks.py": CLAIMED},
    ),
    Example(
        "password_reset_gets_no_permanent_flag",
        project("""
            from celery import shared_task
            from django.core.mail import send_mail

            from .models import Guest


            @shared_task
            def send_password_reset_email(guest_id, link):
                guest = Guest.objects.get(pk=guest_id)
                send_mail("Reset your password", link, "hello@example.com", [guest.email])
        """),
        "manual",
        "is about an event that repeats (password): a permanent flag on Guest would silence every later one",
        args=("--flag-store", "field"),
    ),
    Example(
        "timestamp_checked_before_the_send_left_alone",
        project("""
            from celery import shared_task
            from django.core.mail import send_mail
            from django.utils import timezone

            from .models import Guest


            @shared_task
            def send_onboarding_email(guest_id):
                guest = Guest.objects.get(pk=guest_id)
                if guest.welcomed_at is not None:
                    return
                send_mail("Welcome aboard", "Here is how your stay works.", "hello@example.com", [guest.email])
                guest.welcomed_at = timezone.now()
                guest.save(update_fields=["welcomed_at"])
        """),
        None,
        "it already checks `guest.welcomed_at is not None`",
    ),
    Example(
        "stored_value_compared_before_the_send_left_alone",
        project("""
            from celery import shared_task
            from django.core.mail import send_mail

            from .models import Guest


            @shared_task
            def announce_new_rate(guest_id, rate):
                guest = Guest.objects.get(pk=guest_id)
                if rate != guest.last_announced_rate:
                    send_mail("New rate", f"The nightly rate is now {rate}.", "hello@example.com", [guest.email])
                guest.last_announced_rate = rate
                guest.save(update_fields=["last_announced_rate"])
        """),
        None,
        "it compares `guest.last_announced_rate` (line 10) before sending and records it after (line 12)",
    ),
    Example(
        "flag_checked_in_a_helper_on_the_way_to_the_send_left_alone",
        project("""
            from celery import shared_task
            from django.core.mail import send_mail

            from .models import Guest


            def mail_guest(guest, subject):
                send_mail(subject, "See you soon.", "hello@example.com", [guest.email])


            def send_checkout_reminder(guest):
                if not guest.checkout_reminder_sent:
                    mail_guest(guest, "Check-out is tomorrow")
                    guest.checkout_reminder_sent = True
                    guest.save()


            @shared_task
            def remind_checkout(guest_id):
                send_checkout_reminder(Guest.objects.get(pk=guest_id))
        """),
        None,
        "it already checks `not guest.checkout_reminder_sent` (line 12) before sending in send_checkout_reminder",
    ),
    Example(
        "sends_in_a_loop_left_to_a_person",
        project("""
            from celery import shared_task
            from django.core.mail import send_mail

            from .models import Guest


            @shared_task
            def send_storm_warning(guest_ids):
                for guest in Guest.objects.filter(pk__in=guest_ids):
                    send_mail("Storm warning", "Please stay indoors tonight.", "hello@example.com", [guest.email])
        """),
        "manual",
        "it sends in a loop (line 9): one claim for the whole loop would lose (or, marked after, repeat) the rest",
    ),
    Example(
        "error_callback_runs_without_a_task_id_of_its_own",
        project("""
            from celery import shared_task
            from django.core.mail import mail_admins


            @shared_task
            def report_failed_import(request, exc, traceback):
                mail_admins("Import failed", f"{request.id}: {exc}")
        """),
        "manual",
        "an error callback (request, exc, traceback): Celery runs it inside the failed task's worker",
    ),
    Example(
        "call_that_does_more_than_send_is_a_guess",
        project("""
            from celery import shared_task
            from django.core.mail import send_mail

            from .models import Guest


            def close_stay(guest):
                guest.welcomed_at = None
                guest.save()
                send_mail("Thank you", "We hope you enjoyed your stay.", "hello@example.com", [guest.email])


            @shared_task
            def check_out(guest_id):
                close_stay(Guest.objects.get(pk=guest_id))
        """),
        "unsafe",
        "the check and mark cover all of close_stay() (line 15), which does more than send",
        fixed={"app/tasks.py": """
            from django.core.cache import cache
            from celery import shared_task
            from django.core.mail import send_mail

            from .models import Guest


            def close_stay(guest):
                guest.welcomed_at = None
                guest.save()
                send_mail("Thank you", "We hope you enjoyed your stay.", "hello@example.com", [guest.email])


            @shared_task
            def check_out(guest_id):
                if check_out.request.id and cache.get(f"sent-flag:app.tasks.check_out:{check_out.request.id}"):
                    return
                close_stay(Guest.objects.get(pk=guest_id))
                if check_out.request.id:
                    cache.set(f"sent-flag:app.tasks.check_out:{check_out.request.id}", True, timeout=60 * 60 * 24 * 7)
        """},
    ),
    Example(
        "function_registered_by_a_call_cannot_read_its_task_id",
        project("""
            from celery import Celery
            from django.core.mail import send_mail

            from .models import Guest

            app = Celery("app")


            def send_onboarding_email(guest_id):
                guest = Guest.objects.get(pk=guest_id)
                send_mail("Welcome aboard", "Here is how your stay works.", "hello@example.com", [guest.email])


            onboarding = app.task(send_onboarding_email)
        """),
        "manual",
        "does not let the function read its own task id",
    ),
]
