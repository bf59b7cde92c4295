from django.utils.dateparse import parse_datetime

from .models import Device, Reading


async def store_reading(serial, sample):
    device = await Device.objects.aget(serial=serial)
    reading = await Reading.objects.acreate(device=device, taken_at=parse_datetime(sample["t"]), celsius=sample["c"])
    return reading


async def store_batch(serial, samples):
    device = await Device.objects.aget(serial=serial)
    return [(await Reading.objects.acreate(device=device, taken_at=parse_datetime(s["t"]), celsius=s["c"])).pk for s in samples]
