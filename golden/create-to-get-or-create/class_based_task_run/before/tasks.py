from celery import Task

from .client import StorefrontClient
from .models import Product, Store


class SyncProductsTask(Task):
    name = "catalog.sync_products"
    max_retries = 3

    def run(self, store_id):
        store = Store.objects.get(pk=store_id)
        for remote in StorefrontClient(store.domain).list_products():
            Product.objects.create(store=store, external_id=remote["id"], title=remote["title"], price=remote["price"])
