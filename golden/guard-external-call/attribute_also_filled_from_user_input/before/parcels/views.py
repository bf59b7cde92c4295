from django.shortcuts import redirect

from .models import Parcel
from .tasks import book_parcel


def create_parcel(request):
    parcel = Parcel.objects.create(
        recipient=request.POST["recipient"],
        reference=request.POST.get("reference", ""),
    )
    book_parcel.delay(parcel.pk)
    return redirect("parcel-detail", pk=parcel.pk)
