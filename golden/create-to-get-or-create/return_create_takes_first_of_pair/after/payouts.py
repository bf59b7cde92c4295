from .models import Payout


def open_payout(account, period, amount):
    return Payout.objects.get_or_create(account=account, period=period, defaults={"amount": amount})[0]
