"""Examples of guard-external-call, run as tests by tests/test_rule_examples.py."""

from ..engine.examples import Example

MODELS = """
    from django.db import models


    class Reservation(models.Model):
        room = models.CharField(max_length=10)
        booking_ref = models.CharField(max_length=40, blank=True)
        status = models.CharField(max_length=12, default="new")


    class Stay(models.Model):
        reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE)


    class Integration(models.Model):
        refresh_token = models.CharField(max_length=200, blank=True)
        access_token = models.CharField(max_length=200, blank=True)
"""
CLIENT = "def create_booking(room):\n    raise NotImplementedError\n\n\ndef refresh(token):\n    raise NotImplementedError\n"

BOOK = """
    from celery import shared_task

    from . import partner_client
    from .models import Reservation


    @shared_task
    def book(reservation_id):
        reservation = Reservation.objects.get(pk=reservation_id)
        response = partner_client.create_booking(room=reservation.room)
        reservation.booking_ref = response["ref"]
        reservation.save()
"""

EXAMPLES = [
    Example(
        "reference_filled_only_by_the_call_guarded",
        {
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/partner_client.py": CLIENT,
            "app/tasks.py": BOOK,
        },
        "safe",
        "Reservation.booking_ref is filled only from this call's result",
        fixed={
            "app/tasks.py": """
                from celery import shared_task

                from . import partner_client
                from .models import Reservation


                @shared_task
                def book(reservation_id):
                    reservation = Reservation.objects.get(pk=reservation_id)
                    if reservation.booking_ref:
                        return
                    response = partner_client.create_booking(room=reservation.room)
                    reservation.booking_ref = response["ref"]
                    reservation.save()
            """,
        },
    ),
    Example(
        "reference_also_filled_from_a_form_refused",
        {
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/partner_client.py": CLIENT,
            "app/views.py": """
                from .models import Reservation


                def import_booking(request, pk):
                    reservation = Reservation.objects.get(pk=pk)
                    reservation.booking_ref = request.POST["ref"]
                    reservation.save()
            """,
            "app/tasks.py": BOOK,
        },
        "manual",
        "booking_ref is also filled by reservation.booking_ref = ... at app/views.py:6",
    ),
    Example(
        "reference_filled_through_a_form_of_every_field_refused",
        {
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/partner_client.py": CLIENT,
            "app/forms.py": """
                from django import forms

                from .models import Reservation


                class ReservationForm(forms.ModelForm):
                    class Meta:
                        model = Reservation
                        fields = "__all__"
            """,
            "app/tasks.py": BOOK,
        },
        "manual",
        "booking_ref is also filled by a form or serializer field a user fills at app/forms.py:7",
    ),
    Example(
        "reference_also_filled_by_another_call_is_a_guess",
        {
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/partner_client.py": CLIENT,
            "app/rebook.py": """
                from . import partner_client


                def rebook(reservation):
                    reservation.booking_ref = partner_client.create_booking(room="spare")["ref"]
                    reservation.save(update_fields=["booking_ref"])
            """,
            "app/tasks.py": BOOK,
        },
        "unsafe",
        "booking_ref is also filled elsewhere (reservation.booking_ref = ... at app/rebook.py:5)",
        fixed={
            "app/tasks.py": """
                from celery import shared_task

                from . import partner_client
                from .models import Reservation


                @shared_task
                def book(reservation_id):
                    reservation = Reservation.objects.get(pk=reservation_id)
                    if reservation.booking_ref:
                        return
                    response = partner_client.create_booking(room=reservation.room)
                    reservation.booking_ref = response["ref"]
                    reservation.save()
            """,
        },
    ),
    Example(
        "guard_on_call_input_refused",
        {
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/partner_client.py": CLIENT,
            "app/tasks.py": """
                from celery import shared_task

                from . import partner_client
                from .models import Integration


                @shared_task
                def rotate_tokens(integration_id):
                    integration = Integration.objects.get(pk=integration_id)
                    tokens = partner_client.refresh(integration.refresh_token)
                    integration.refresh_token = tokens["refresh"]
                    integration.save()
            """,
        },
        "manual",
        "the call reads integration.refresh_token itself",
    ),
    Example(
        "alias_of_another_rows_object_refreshed_first",
        {
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/partner_client.py": CLIENT,
            "app/tasks.py": """
                from celery import shared_task

                from . import partner_client
                from .models import Stay


                @shared_task
                def book_for_stay(stay_id):
                    stay = Stay.objects.select_related("reservation").get(pk=stay_id)
                    reservation = stay.reservation
                    response = partner_client.create_booking(room=reservation.room)
                    reservation.booking_ref = response["ref"]
                    reservation.save()
            """,
        },
        "unsafe",
        "reservation's model is not known here",
        fixed={
            "app/tasks.py": """
                from celery import shared_task

                from . import partner_client
                from .models import Stay


                @shared_task
                def book_for_stay(stay_id):
                    stay = Stay.objects.select_related("reservation").get(pk=stay_id)
                    reservation = stay.reservation
                    reservation.refresh_from_db(fields=["booking_ref"])
                    if reservation.booking_ref:
                        return
                    response = partner_client.create_booking(room=reservation.room)
                    reservation.booking_ref = response["ref"]
                    reservation.save()
            """,
        },
    ),
    Example(
        "already_guarded_call_left_alone",
        {
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/partner_client.py": CLIENT,
            "app/tasks.py": """
                from celery import shared_task

                from . import partner_client
                from .models import Reservation


                @shared_task
                def book(reservation_id):
                    reservation = Reservation.objects.get(pk=reservation_id)
                    if not reservation.booking_ref:
                        reservation.booking_ref = partner_client.create_booking(room=reservation.room)["ref"]
                        reservation.save()
            """,
        },
        None,
        "already guarded by `if not reservation.booking_ref`",
    ),
]
