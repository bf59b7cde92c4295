import requests
from celery import shared_task

from .models import ImportRun, Price, Product, Supplier


@shared_task
def import_supplier_feed(supplier_id):
    supplier = Supplier.objects.get(pk=supplier_id)
    run = ImportRun.objects.create(supplier=supplier)
    url = supplier.feed_url
    while url:
        page = requests.get(url, timeout=30).json()
        for item in page["items"]:
            product = Product.objects.create(run=run, sku=item["sku"])
            Price.objects.create(product=product, amount=item["price"])
        url = page.get("next")
    return run.pk
