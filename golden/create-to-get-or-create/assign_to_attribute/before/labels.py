from .models import Label, Shipment


class LabelPrinter:
    def __init__(self, shipment_id, carrier):
        self.shipment = Shipment.objects.get(pk=shipment_id)
        self.carrier = carrier
        self.label = None

    def print_label(self, pdf_url):
        self.label = Label.objects.create(shipment=self.shipment, carrier=self.carrier, pdf_url=pdf_url)
        return self.label
