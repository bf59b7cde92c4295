import secrets
import uuid
from uuid import uuid4

from celery import shared_task
from django.utils import timezone

from .models import ApiCredential, Partner


@shared_task
def provision_sandbox_credentials(partner_id):
    partner = Partner.objects.get(pk=partner_id)
    client_ref = str(uuid4())
    credential, _ = ApiCredential.objects.get_or_create(
        partner=partner,
        environment="sandbox",
        defaults={
            "key_id": uuid.uuid4(),
            "client_ref": client_ref,
            "secret": secrets.token_hex(32),
            "issued_at": timezone.now(),
        },
    )
    return str(credential.key_id)
