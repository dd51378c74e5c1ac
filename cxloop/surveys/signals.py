"""Signals of the survey records, so that higher layers follow writes without being imported."""

from django.dispatch import Signal

# Sent by the announcer (:mod:`cxloop.surveys.announce`) once completed responses are committed,
# never inside the transaction that wrote them, with ``response_ids``: completed responses newly
# recorded through the one way in, and ``months``: the set of "YYYY-MM" months (UTC) of their
# submitted_at. It is sent inside the announcer's own transaction, which marks them announced:
# a receiver's database writes commit with that mark (or roll back with it, and the ids are
# announced again), and anything else a receiver does should wait for transaction.on_commit.
# Consumers (the fact store, the alert rules, later text enrichment and webhooks) work in bulk
# and must be idempotent.
responses_recorded = Signal()
