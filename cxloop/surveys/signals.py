"""Signals of the survey records, so that higher layers follow writes without being imported."""

import datetime as dt
from collections.abc import Iterable

from django.dispatch import Signal

# Sent inside the writing transaction after completed responses were stored or changed, with
# ``months``: the set of "YYYY-MM" months (UTC) of their submitted_at. Receivers defer their
# work with transaction.on_commit, so nothing follows a write that was rolled back.
responses_written = Signal()


def announce_responses(submitted_at: Iterable[dt.datetime], *, sender: object) -> None:
    """Send :data:`responses_written` for responses submitted at these times."""
    months = {moment.astimezone(dt.UTC).strftime("%Y-%m") for moment in submitted_at}
    if months:
        responses_written.send(sender=sender, months=months)


# Sent once responses are committed, by the task that announces them (never inside the writing
# transaction), with ``response_ids``: completed responses newly recorded through the one way in,
# and ``months`` as above. Consumers (alert rules, later text enrichment and webhooks) work in
# bulk and must be idempotent: after a crash the same ids may be announced again.
responses_recorded = Signal()
