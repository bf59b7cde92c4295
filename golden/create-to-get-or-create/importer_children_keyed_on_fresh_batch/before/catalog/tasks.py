import csv
import io

from celery import shared_task

from .models import ImportBatch, Product


@shared_task
def import_price_list(source, csv_text):
    batch = ImportBatch.objects.create(source=source)
    for row in csv.DictReader(io.StringIO(csv_text)):
        Product.objects.create(batch=batch, sku=row["sku"], name=row["name"], price=row["price"])
    return batch.pk
