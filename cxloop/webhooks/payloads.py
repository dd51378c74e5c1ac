"""The JSON each event carries: one envelope, and per kind its ``data`` (documented in the
OpenAPI document's components by :mod:`cxloop.webhooks.schemas`). Identifiers and states only:
no names, addresses or comments leave through a webhook; a receiver that needs them reads the
API with its token, where the reader's scope applies."""

import datetime as dt
import json
import uuid

from django.core.serializers.json import DjangoJSONEncoder


def envelope(event_id: uuid.UUID, kind: str, created_at: dt.datetime, data: dict) -> dict:
    return {
        "id": str(event_id),
        "type": kind,
        "created": created_at.isoformat(),
        "data": data,
    }


def body(payload: dict) -> bytes:
    """The bytes that are sent and signed: compact, UTF-8, keys in order."""
    return json.dumps(
        payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode()


def iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None
