from .models import PageRevision


def revisions_by(page, username):
    return PageRevision.objects.filter(page=page, published_by=username).order_by("-created_at")
