"""Who is acting now: set by the middleware for a request, "system" with the command otherwise."""

import contextvars
import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    address: str = ""


# An Actor, or a function that makes one when first needed (the middleware's, see there).
_current: contextvars.ContextVar = contextvars.ContextVar("cxloop_audit_actor", default=None)


def system_actor() -> Actor:
    """The command line or the worker: ``system`` and the command's first word."""
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), "")
    return Actor(None, f"system: {command}"[:150] if command else "system")


def current() -> Actor:
    actor = _current.get()
    if actor is None:
        return system_actor()
    return actor() if callable(actor) else actor


def set_actor(actor: "Actor | Callable[[], Actor] | None") -> contextvars.Token:
    return _current.set(actor)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)


def actor_of_user(user, address: str = "") -> Actor:
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(None, "anonymous", address)
    return Actor(user.pk, user.get_username()[:150], address)
