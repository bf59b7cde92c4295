import requests


def send_sms(number, text):
    requests.post("https://sms.example.com/send", json={"to": number, "text": text}, timeout=10)
