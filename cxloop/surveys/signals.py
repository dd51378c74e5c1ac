"""Signals of the survey records, so that higher layers follow writes without being imported."""

from django.dispatch import Signal

# Sent by the announcer (:mod:`cxloop.surveys.announce`) once completed responses are committed,
# never inside the transaction that wrote them, with ``response_ids``: completed responses newly
# recorded through the one way in, and ``months``: the set of "YYYY-MM" months (UTC) of their
# submitted_at. It is sent inside the announcer's own transaction, which marks them announced:
# a receiver's database writes commit with that mark (or roll back with it, and the ids are
# announced again), and anything else a receiver does should wait for transaction.on_commit.
# Consumers (the fact store, later text enrichment and webhooks) work in bulk and must be
# idempotent.
responses_recorded = Signal()

# Sent by the announcer for the completed responses it is about to announce, with
# ``response_ids``, before :data:`responses_recorded`. For consumers whose work is long (the
# alert rules read the responses' facts and open cases) and that commit it themselves, in
# short transactions: where the database has one writer (SQLite) it is sent outside any
# transaction, so that the API's INSERTs do not wait for the consumers' reads, and the same
# ids may be sent again (an announcer that dies before its mark, two announcers at once);
# where rows can be claimed (PostgreSQL) it is sent inside the claiming transaction, and the
# consumers' writes commit with the mark. Either way a receiver must be idempotent: the same
# ids twice do nothing the second time.
responses_pending = Signal()
