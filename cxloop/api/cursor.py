"""Opaque page cursors: the (submitted_at, id) of the last item of a page, as URL-safe base64."""

import base64
import binascii
import datetime as dt
import json


class CursorError(ValueError):
    """A cursor this API did not hand out."""


def encode_cursor(submitted_at: dt.datetime, pk: int) -> str:
    raw = json.dumps([submitted_at.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """The (submitted_at, id) inside ``cursor``; raises CursorError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, pk = json.loads(raw)
        submitted_at = dt.datetime.fromisoformat(stamp)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as error:
        raise CursorError(f"{cursor!r} is not a cursor this API gave") from error
    if (
        submitted_at.tzinfo is None
        or not isinstance(pk, int)
        or isinstance(pk, bool)
        or not 0 < pk < 2**63  # a row id (a 64-bit integer in every database)
    ):
        raise CursorError(f"{cursor!r} is not a cursor this API gave")
    return submitted_at, pk
