import datetime

from celery import shared_task

from .models import StockCount, Warehouse


def _count_items(warehouse):
    return warehouse.bins.aggregate_items()


@shared_task
def nightly_stock_count(warehouse_code, day):
    warehouse = Warehouse.objects.get(code=warehouse_code)
    return StockCount.objects.create(
        warehouse=warehouse,
        counted_on=datetime.date.fromisoformat(day),
        item_count=_count_items(warehouse),
    ).pk


@shared_task
def record_manual_count(warehouse_code, day, item_count):
    warehouse = Warehouse.objects.get(code=warehouse_code)
    count_id = StockCount.objects.create(warehouse=warehouse, counted_on=day, item_count=item_count).pk
    return count_id
