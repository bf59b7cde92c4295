# -*- coding: utf-8 -*-
from celery import shared_task

from .models import Reservation
from .clients import lock_client


@shared_task
def book_lock(reservation_id):
	# Réservation chargée à chaque livraison
	reservation = Reservation.objects.get(pk=reservation_id)  # fresh
	if reservation.lock_booking_id:
		return
	result = lock_client.create_booking(lock=reservation.lock_id,
	                                    room=reservation.room)  # the partner call
	reservation.lock_booking_id = result['id']
	reservation.save()
