from django.db import models


class Ticket(models.Model):
    requester_email = models.EmailField()
    subject = models.CharField(max_length=200)


class TicketMessage(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    body = models.TextField()
