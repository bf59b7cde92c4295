# -*- coding: utf-8 -*-
from django.db import models


class Host(models.Model):
	email = models.EmailField()  # where the welcome goes
	welcome_email_sent = models.BooleanField(default=False)

	def __str__(self):
		return self.email
