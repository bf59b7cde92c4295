from django.db import models


class Event(models.Model):
    slug = models.SlugField(unique=True)


class TicketOrder(models.Model):
    event = models.ForeignKey(Event, on_delete=models.PROTECT)
    quantity = models.PositiveSmallIntegerField()


class Ticket(models.Model):
    order = models.ForeignKey(TicketOrder, on_delete=models.CASCADE, related_name="tickets")
    event = models.ForeignKey(Event, on_delete=models.PROTECT)
    tier = models.CharField(max_length=20)
