from django.utils.dateparse import parse_datetime

from .models import Device, Reading


async def store_reading(serial, sample):
    device = await Device.objects.aget(serial=serial)
    reading, _ = await Reading.objects.aget_or_create(device=device, taken_at=parse_datetime(sample["t"]), defaults={"celsius": sample["c"]})
    return reading


async def store_batch(serial, samples):
    device = await Device.objects.aget(serial=serial)
    return [(await Reading.objects.aget_or_create(device=device, taken_at=parse_datetime(s["t"]), defaults={"celsius": s["c"]}))[0].pk for s in samples]
