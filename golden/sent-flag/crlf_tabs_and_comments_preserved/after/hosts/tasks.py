# -*- coding: utf-8 -*-
"""Tasks: tab-indented, CRLF line endings."""
from celery import shared_task
from django.core.mail import send_mail

from hosts.models import Host


@shared_task
def send_host_welcome_email(host_id):
	host = Host.objects.get(pk=host_id)  # fetched fresh
	if not Host.objects.filter(pk=host.pk, welcome_email_sent=False).update(welcome_email_sent=True):
		return
	if host.email:
		# the only side effect
		send_mail('Welcome', 'Glad to have you.', None, [host.email])
