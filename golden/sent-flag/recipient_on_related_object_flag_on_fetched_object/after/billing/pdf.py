def render_invoice_pdf(invoice):
    return f"%PDF invoice {invoice.number}".encode()
