from django.db import models


class Event(models.Model):
    title = models.CharField(max_length=100)


class Attendee(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="attendees")
    email = models.EmailField()
