# -*- coding: utf-8 -*-
"""Tabs and CRLF."""
from django.db import transaction
from celery import shared_task

from .models import Customer, Order, OrderLine


@shared_task
def place_order(customer_id, sku):
	customer = Customer.objects.get(pk=customer_id)
	if Order.objects.filter(customer=customer).exists():
		return None

	with transaction.atomic():
		# the order
		order = Order.objects.create(
			customer=customer,  # who
		)

		# and its line
		OrderLine.objects.create(order=order, sku=sku)  # what
	# a comment after the range stays outside

	return order.pk
