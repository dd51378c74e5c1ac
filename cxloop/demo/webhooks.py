"""The demo's webhook (issue #16, part 2): the firm's helpdesk taking the closed loop's case
events — switched off, for the demo has no helpdesk to receive them and a subscription that is
on would fill its log with failures. The CX lead sees how one is set up, points it at a
receiver of their own and switches it on; from then on every case event reaches it, signed."""

from cxloop.webhooks import services
from cxloop.webhooks.choices import EventKind

HELPDESK = {
    "name": "Helpdesk: обращения клиентов",
    "url": "https://helpdesk.example.com/hooks/cxloop",
    "events": (EventKind.CASE_OPENED, EventKind.CASE_STATE_CHANGED, EventKind.CASE_CLOSED),
}


def plant_webhooks() -> None:
    subscription = services.create_subscription(**HELPDESK)
    services.set_active(subscription, False)
