from .tasks import send_account_deactivated_email, send_account_reactivated_email


def set_active(member, active):
    member.is_active = active
    member.save(update_fields=["is_active"])
    notice = send_account_reactivated_email if active else send_account_deactivated_email
    notice.delay(member.pk)
