from .models import Payout


def open_payout(account, period, amount):
    return Payout.objects.create(account=account, period=period, amount=amount)
