"""Write side of the API: tokens (made, revoked, used)."""

import datetime as dt
import hashlib
import secrets

from django.utils import timezone

from cxloop.api.models import ApiToken

# Marking a token used on every request would make every read a write (on SQLite, a turn at
# the database's one write lock); once a minute is precise enough to tell stale tokens.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(employee, name: str) -> tuple[ApiToken, str]:
    """A new saved token for ``employee`` and the token itself, which is not stored anywhere."""
    token = secrets.token_urlsafe(32)
    api_token = ApiToken.objects.create(employee=employee, name=name, token_hash=hash_token(token))
    return api_token, token


def revoke_token(pk: int, *, now: dt.datetime) -> bool:
    """Revoke the token ``pk``; False when there is no such token or it was revoked before."""
    return bool(ApiToken.objects.filter(pk=pk, revoked_at=None).update(revoked_at=now))


def token_in_use(token: str) -> ApiToken | None:
    """The unrevoked token ``token`` of an active user, with its employee and user, marked
    used; None when there is none."""
    api_token = (
        ApiToken.objects.select_related("employee__user")
        .filter(token_hash=hash_token(token), revoked_at=None, employee__user__is_active=True)
        .first()
    )
    if api_token is None:
        return None
    now = timezone.now()
    if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        api_token.last_used_at = now
    return api_token
