"""Write side of the API: tokens (made, revoked, used)."""

import datetime as dt
import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from cxloop.api.models import ApiToken
from cxloop.people.models import Employee

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


_TOKEN_IN_USE = """
    SELECT t.id, e.id, e.user_id, e.team_id, e.role, e.title, e.is_champion,
           t.last_used_at IS NULL OR t.last_used_at <= %s
    FROM {token} t
    JOIN {employee} e ON e.id = t.employee_id
    JOIN {user} u ON u.id = e.user_id
    WHERE t.token_hash = %s AND t.revoked_at IS NULL AND u.is_active
"""


def token_in_use(token: str) -> ApiToken | None:
    """The unrevoked token ``token`` of an active user, with its employee (whose user loads on
    first use), marked used; None when there is none. One hand-written statement: every API
    request starts here, and the ORM would spend longer compiling the query than running it."""
    now = timezone.now()
    sql = _TOKEN_IN_USE.format(
        token=ApiToken._meta.db_table,
        employee=Employee._meta.db_table,
        user=get_user_model()._meta.db_table,
    )
    with connection.cursor() as cursor:
        stale_before = connection.ops.adapt_datetimefield_value(now - LAST_USED_PRECISION)
        cursor.execute(sql, [stale_before, hash_token(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    token_id, employee_id, user_id, team_id, role, title, is_champion, stale = row
    employee = Employee(
        id=employee_id,
        user_id=user_id,
        team_id=team_id,
        role=role,
        title=title,
        is_champion=bool(is_champion),
    )
    if stale:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return ApiToken(id=token_id, employee=employee, last_used_at=now if stale else None)
