from django.db import models


class Ticket(models.Model):
    subject = models.CharField(max_length=200)


class Reply(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    kind = models.CharField(max_length=20)
    body = models.TextField()

    class Meta:
        unique_together = ("ticket", "kind")
