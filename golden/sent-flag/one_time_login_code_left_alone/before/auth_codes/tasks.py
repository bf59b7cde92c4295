import secrets

from celery import shared_task

from auth_codes.models import Member
from auth_codes.sms import send_sms


@shared_task
def send_login_code(member_id):
    member = Member.objects.get(pk=member_id)
    code = f"{secrets.randbelow(10**6):06d}"
    send_sms(member.phone, f"Your code: {code}")
