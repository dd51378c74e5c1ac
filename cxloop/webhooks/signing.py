"""The signature of a delivery, as Stripe and GitHub sign theirs (docs/webhooks.md).

``X-Cxloop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>``.
The timestamp is signed with the body, so a receiver that refuses old timestamps refuses a
replayed request; the receiver's own check is in docs/webhooks.md (tested as it is written).
"""

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Cxloop-Signature"
EVENT_HEADER = "X-Cxloop-Event-Id"
KIND_HEADER = "X-Cxloop-Event"
DELIVERY_HEADER = "X-Cxloop-Delivery"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header's value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
