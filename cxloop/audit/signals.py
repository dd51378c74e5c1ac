"""What the audit log listens to: sign-ins and every change to the records it watches.

Models are named by their labels, not imported, so that this lowest app stays below them.
"""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete, post_save

from cxloop.audit import context, services
from cxloop.audit.choices import Action

# Records whose changes are logged: customers, contacts, the programme's design and its
# settings-like records. Responses are not: they arrive by the thousand through the one way in
# and are counted by the fact store; imports of them are logged as one import event each.
WATCHED = (
    "customers.Customer",
    "customers.Contact",
    "customers.Segment",
    "surveys.Survey",
    "surveys.Question",
    "feedback.FaceToFaceRecord",
    "feedback.FollowUp",
    "journeys.Journey",
    "journeys.Stage",
    "journeys.Touchpoint",
    "journeys.Standard",
    "people.Team",
    "people.Employee",
    "api.ApiToken",
    "auth.User",
)

# Records whose label would be a person's name: logged by id alone (see AuditEvent).
BY_ID_ONLY = frozenset({"customers.contact", "feedback.followup"})

# A sign-in saves the user's last_login; the sign-in event says it already.
_QUIET_FIELDS = frozenset({"last_login"})


def label_of(instance) -> str:
    if instance._meta.label_lower in BY_ID_ONLY:
        return f"#{instance.pk}"
    return str(instance)


def kind_of(instance) -> str:
    return instance._meta.model_name


def on_save(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw:  # loaddata: not a change anyone made
        return
    if update_fields and set(update_fields) <= _QUIET_FIELDS:
        return
    details = {"fields": sorted(update_fields)} if update_fields else {}
    services.record(
        Action.CREATE if created else Action.CHANGE,
        kind=kind_of(instance),
        object_id=instance.pk,
        label=label_of(instance),
        details=details,
    )


def on_delete(sender, instance, **kwargs) -> None:
    services.record(
        Action.DELETE, kind=kind_of(instance), object_id=instance.pk, label=label_of(instance)
    )


def _address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def on_sign_in(sender, request, user, **kwargs) -> None:
    services.record(
        Action.SIGN_IN,
        kind="user",
        object_id=user.pk,
        label=user.get_username(),
        actor=context.actor_of_user(user, _address(request)),
    )


def on_sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    services.record(
        Action.SIGN_IN_FAILED,
        kind="user",
        label=username,
        actor=context.Actor(None, "anonymous", _address(request)),
    )


def connect() -> None:
    for label in WATCHED:
        post_save.connect(on_save, sender=label, dispatch_uid=f"audit-save-{label}")
        post_delete.connect(on_delete, sender=label, dispatch_uid=f"audit-delete-{label}")
    user_logged_in.connect(on_sign_in, dispatch_uid="audit-sign-in")
    user_login_failed.connect(on_sign_in_failed, dispatch_uid="audit-sign-in-failed")
