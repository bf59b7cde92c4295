from celery import shared_task

from .models import Membership, Project


@shared_task
def create_project(owner_id, name):
    project = Project.objects.create(owner_id=owner_id, name=name)
    Membership.objects.create(project=project, user_id=owner_id, role="owner")
    return project.pk
