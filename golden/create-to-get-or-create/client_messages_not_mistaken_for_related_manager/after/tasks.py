from celery import shared_task
from django.conf import settings
from twilio.rest import Client

from .models import Conversation


@shared_task
def text_agent_joined(conversation_id, agent_name):
    conversation = Conversation.objects.get(pk=conversation_id)
    client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
    client.messages.create(to=conversation.customer_phone, from_=settings.TWILIO_FROM, body=f"{agent_name} joined the chat")
