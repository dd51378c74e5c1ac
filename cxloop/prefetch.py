"""Related objects already in memory, handed to an instance as if prefetched."""

from collections.abc import Sequence

from django.db import models


def attach(instance: models.Model, relation: str, objects: Sequence[models.Model]) -> None:
    """Make ``instance.<relation>.all()`` give ``objects`` without a query, as
    ``prefetch_related(relation)`` would: for a reply built from rows just written, or rows
    read with one hand-written statement. Filtering the relation further still queries."""
    queryset = getattr(instance, relation).all()
    # The two attributes prefetch_related_objects sets on the queryset it stores.
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[relation] = queryset
