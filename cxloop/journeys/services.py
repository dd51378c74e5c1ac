"""Write side of journeys."""

import datetime as dt

from django.db import transaction
from django.db.models import Max

from cxloop.journeys.models import Standard, Touchpoint


def new_standard_version(
    touchpoint: Touchpoint | int, *, text_ru: str, text_en: str, effective_from: dt.date
) -> Standard:
    """Record the next version of the touchpoint's standard, in force from ``effective_from``
    (the earlier versions stay: they say how the touchpoint was done before). Raises
    ValueError for an empty text; two writers at once: the database's unique (touchpoint,
    version) refuses the second with IntegrityError, changing nothing."""
    text_ru, text_en = text_ru.strip(), text_en.strip()
    if not text_ru:
        raise ValueError("a standard needs its text")
    touchpoint_id = getattr(touchpoint, "pk", touchpoint)
    with transaction.atomic():
        latest = Standard.objects.filter(touchpoint_id=touchpoint_id).aggregate(v=Max("version"))
        return Standard.objects.create(
            touchpoint_id=touchpoint_id,
            version=(latest["v"] or 0) + 1,
            text_ru=text_ru,
            text_en=text_en or text_ru,
            effective_from=effective_from,
        )
