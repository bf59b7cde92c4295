from celery import shared_task

from .models import Invitation, Tenant


def _invitation_fields(tenant, row):
    return {"tenant": tenant, "email": row["email"].lower(), "role": row.get("role", "member")}


@shared_task
def import_invitations(tenant_slug, rows):
    tenant = Tenant.objects.get(slug=tenant_slug)
    for row in rows:
        Invitation.objects.create(**_invitation_fields(tenant, row))
