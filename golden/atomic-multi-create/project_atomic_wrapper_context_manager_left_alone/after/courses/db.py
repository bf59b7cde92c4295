import logging
from contextlib import contextmanager

from django.db import transaction

logger = logging.getLogger(__name__)


@contextmanager
def traced_atomic(name):
    logger.debug("transaction: %s", name)
    with transaction.atomic():
        yield
