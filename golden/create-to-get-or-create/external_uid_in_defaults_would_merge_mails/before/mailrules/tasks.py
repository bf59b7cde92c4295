from celery import shared_task

from .imap import unseen_uids
from .models import MailRule, ProcessedMail


@shared_task
def scan_mail_rule(rule_id):
    rule = MailRule.objects.get(pk=rule_id)
    for uid in unseen_uids(rule.host, rule.folder):
        ProcessedMail.objects.create(rule=rule, folder=rule.folder, uid=uid)


@shared_task
def last_uid_seen(rule_id):
    rule = MailRule.objects.get(pk=rule_id)
    last = ProcessedMail.objects.filter(rule=rule, folder=rule.folder).last()
    return last.uid if last else None
