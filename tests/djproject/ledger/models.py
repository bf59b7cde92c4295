"""Ledger: every booking writes two rows. Half a booking is a wrong balance."""
from django.db import models


class Wallet(models.Model):
    owner = models.CharField(max_length=100, unique=True)


class Batch(models.Model):
    """A group of entries posted together (no unique reference: a second run makes a second batch)."""

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="batches")
    reference = models.CharField(max_length=64)


class Entry(models.Model):
    """One side of a booking: a debit (negative amount) or a credit (positive amount)."""

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="entries")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, null=True, blank=True, related_name="entries")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    memo = models.CharField(max_length=200, blank=True, default="")
