from django.db import models


class Conversation(models.Model):
    customer_phone = models.CharField(max_length=20)


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=8)  # "in" | "out"
    body = models.TextField()
    provider_sid = models.CharField(max_length=40, blank=True)
