"""Booking tasks. Each one creates a row that a redelivery would create again."""
from celery import shared_task
from django.contrib.auth import get_user_model

from bookings.models import Guest, Notification, Order, Room
from bookings.services import BookingService
from djproject.faults import crash_point


@shared_task
def welcome_user(user_id):
    """Shape: bare expression statement; identity is a foreign key plus a literal."""
    user = get_user_model().objects.get(pk=user_id)
    Notification.objects.create(user=user, kind="welcome")
    crash_point("after_create")


@shared_task
def add_order_line(order_id, sku):
    """Shape: create through a related manager; `order` is implied by `order.lines`."""
    order = Order.objects.get(pk=order_id)
    line = order.lines.create(sku=sku, quantity=2)
    crash_point("after_create")
    return line.pk


@shared_task
def confirm_booking(guest_id, room_id):
    """Shape: `self.booking = ...create(...)` in a service method; no unique constraint."""
    guest = Guest.objects.get(pk=guest_id)
    room = Room.objects.get(pk=room_id)
    booking = BookingService().confirm(guest, room)
    return booking.pk
