import requests

HELPDESK_URL = "https://helpdesk.example.com/api/replies"


def push_to_helpdesk(reply, channel):
    requests.post(HELPDESK_URL, json={"ticket": reply.ticket_id, "body": reply.body, "channel": channel}, timeout=10)
