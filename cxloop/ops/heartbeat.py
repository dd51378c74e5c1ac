"""The worker's sign of life: each round ends by noting the time in the cache (Redis when
configured, else files every process of the machine shares), for ``/healthz`` to read."""

import datetime as dt

from django.core.cache import cache
from django.utils import timezone

KEY = "worker-heartbeat"
KEPT = 24 * 3600  # seconds; an older beat says as much as none


def beat(now: dt.datetime | None = None) -> None:
    cache.set(KEY, (now or timezone.now()).isoformat(), KEPT)


def last() -> dt.datetime | None:
    """When a worker last finished a round, or None when none has in the last day."""
    value = cache.get(KEY)
    return dt.datetime.fromisoformat(value) if value else None
