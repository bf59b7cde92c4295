from shop.celery import app

from .models import LedgerEntry, Wallet


@app.task(bind=True, max_retries=5)
def post_bank_transaction(self, wallet_id, transaction):
    try:
        wallet = Wallet.objects.get(pk=wallet_id)
    except Wallet.DoesNotExist as exc:  # the wallet's signup is still committing
        raise self.retry(exc=exc, countdown=30)
    entry = LedgerEntry.objects.create(
        wallet=wallet,
        external_id=transaction["id"],
        amount=transaction["amount"],
        memo=transaction.get("description", ""),
    )
    return entry.pk
