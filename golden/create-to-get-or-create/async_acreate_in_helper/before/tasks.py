import asyncio

from celery import shared_task

from .ingest import store_batch, store_reading


@shared_task
def ingest_reading(serial, sample):
    asyncio.run(store_reading(serial, sample))


@shared_task
def ingest_batch(serial, samples):
    return asyncio.run(store_batch(serial, samples))
