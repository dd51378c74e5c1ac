"""The editable taxonomy of root causes, per touchpoint (none: a general cause): add, rename,
retire. A retired cause stays on the cases that have it and in the loop's figures; it is no
longer offered for new ones."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from cxloop.cases.models import RootCause
from cxloop.cases.services import CaseError


def _saved(cause: RootCause) -> RootCause:
    try:
        with transaction.atomic():
            cause.save()
    except IntegrityError:
        raise CaseError(
            _("“%(name)s” is already a root cause of this touchpoint.") % {"name": cause.name_ru}
        ) from None
    return cause


def add_root_cause(*, touchpoint, name_ru: str, name_en: str) -> RootCause:
    return _saved(RootCause(touchpoint=touchpoint, name_ru=name_ru, name_en=name_en))


def rename_root_cause(cause: RootCause, *, name_ru: str, name_en: str) -> RootCause:
    cause.name_ru, cause.name_en = name_ru, name_en
    return _saved(cause)


def set_root_cause_active(cause: RootCause, active: bool) -> RootCause:
    RootCause.objects.filter(pk=cause.pk).update(is_active=active)
    cause.is_active = active
    return cause


def root_cause_by_id(pk: int) -> RootCause | None:
    return RootCause.objects.filter(pk=pk).first()
