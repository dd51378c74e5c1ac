"""The "response recorded" webhook event: a consumer of the announcement of new responses
(:data:`~cxloop.surveys.signals.responses_recorded`, docs/decisions/012-one-way-in.md), in
bulk — one SELECT of the announced batch and one INSERT of its deliveries, in the announcer's
transaction, so an event is queued exactly when its response is marked announced. Its subject
is the customer (or, anonymous, the response itself): a receiver gets one customer's responses
in the order they were announced."""

from cxloop.surveys.models import Response
from cxloop.webhooks.choices import EventKind
from cxloop.webhooks.payloads import iso
from cxloop.webhooks.services import emit_many, subscriptions_taking


def on_responses_recorded(sender, *, response_ids, **kwargs) -> None:
    subscriptions = subscriptions_taking(EventKind.RESPONSE_RECORDED) if response_ids else []
    if not subscriptions:
        return
    rows = (
        Response.objects.filter(pk__in=list(response_ids))
        .order_by("pk")
        .values(
            "pk",
            "survey_id",
            "customer_id",
            "contact_id",
            "touchpoint_id",
            "team_id",
            "channel",
            "language",
            "submitted_at",
        )
    )
    items = [
        (
            f"customer:{row['customer_id']}" if row["customer_id"] else f"response:{row['pk']}",
            {
                "response": row["pk"],
                "survey": row["survey_id"],
                "customer": row["customer_id"],
                "contact": row["contact_id"],
                "touchpoint": row["touchpoint_id"],
                "team": row["team_id"],
                "channel": row["channel"],
                "language": row["language"],
                "submitted_at": iso(row["submitted_at"]),
            },
        )
        for row in rows
    ]
    emit_many(EventKind.RESPONSE_RECORDED, items, subscriptions=subscriptions)
