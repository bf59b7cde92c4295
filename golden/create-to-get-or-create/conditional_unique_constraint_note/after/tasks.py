from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .models import Booking, SeatHold

HOLD_FOR = timedelta(minutes=15)


@shared_task
def hold_seats(booking_id):
    booking = Booking.objects.get(pk=booking_id)
    hold, _ = SeatHold.objects.get_or_create(
        booking=booking,
        status="active",
        defaults={
            "seats": booking.seat_count,
            "expires_at": timezone.now() + HOLD_FOR,
        },
    )
    return hold.pk
