"""The month a moment is filed under."""

import datetime as dt


def utc_month(moment: dt.datetime) -> str:
    """The "YYYY-MM" of ``moment`` in UTC, as the fact store's months are."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m")
