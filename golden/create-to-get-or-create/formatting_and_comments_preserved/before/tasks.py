# -*- coding: utf-8 -*-
"""Monthly payouts.   Keep   this   docstring   as   is."""
from celery import shared_task
from .models import Account,Payout   # odd spacing on purpose


ROUNDING  =  'ROUND_HALF_EVEN'    # single quotes, double spaces


@shared_task( name = 'payouts.create' )
def create_payout( account_id , period , amount ):
    account=Account.objects.get( pk = account_id )  # no spaces around =

    # Create the payout row.
    payout = Payout.objects.create(
        account=account,  # who gets paid
        period=period,  # "YYYY-MM"
        amount=amount,  # already rounded with ROUNDING
        # currency comes from the account's country
        currency='EUR',
        memo=f'Payout {period}',  # shown on the bank statement
    )
    return payout.pk   # trailing comment after return
