from celery import shared_task

from .labels import LabelPrinter


@shared_task
def print_shipping_label(shipment_id, carrier, pdf_url):
    printer = LabelPrinter(shipment_id, carrier)
    printer.print_label(pdf_url)
