import datetime

from celery import shared_task

from .models import StockCount, Warehouse


def _count_items(warehouse):
    return warehouse.bins.aggregate_items()


@shared_task
def nightly_stock_count(warehouse_code, day):
    warehouse = Warehouse.objects.get(code=warehouse_code)
    return StockCount.objects.get_or_create(
        warehouse=warehouse,
        counted_on=datetime.date.fromisoformat(day),
        defaults={
            "item_count": _count_items(warehouse),
        },
    )[0].pk


@shared_task
def record_manual_count(warehouse_code, day, item_count):
    warehouse = Warehouse.objects.get(code=warehouse_code)
    count_id = StockCount.objects.get_or_create(warehouse=warehouse, counted_on=day, defaults={"item_count": item_count})[0].pk
    return count_id
