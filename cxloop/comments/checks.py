"""Spot-checks of a theme's precision: the CX lead reads comments the theme matched and says
whether each is right. :func:`record_check` is the one door for a verdict; the rest reads what
the theme editor shows (the sample to check, and the counts by theme).

A check counts for the theme's precision while the theme still matches its comment: one the
phrases no longer match (after a change and a rebuild) no longer speaks of them."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Mod
from django.utils import timezone
from django.utils.translation import gettext as _

from cxloop.comments import queries
from cxloop.comments.models import CommentTheme, Theme, ThemeCheck

SAMPLE = 10  # comments offered to check at once

# Multiplier and modulus of the sample's order: a multiplicative hash of the answer id, so the
# sample looks random, stays the same from one page view to the next and needs no stored seed.
_HASH_MULTIPLIER = 2654435761
_HASH_MODULUS = 1_000_003


@dataclass(frozen=True)
class ThemeCounts:
    comments: int  # comments the theme matched when they were last enriched
    checked: int  # of them, those checked
    right: int  # of those, found right


def record_check(theme: Theme, answer_id: int, is_right: bool, by) -> ThemeCheck:
    """Store a verdict on a comment ``theme`` matched, by ``by`` (an Employee or None); a second
    verdict on the same comment replaces the first. A comment the theme did not match is
    refused, naming the answer."""
    if not CommentTheme.objects.filter(theme=theme, insight_id=answer_id).exists():
        raise ValidationError(
            {
                "answer": _("The theme “%(theme)s” did not match comment %(answer)s.")
                % {"theme": theme.name, "answer": answer_id}
            }
        )
    with transaction.atomic():
        check, _created = ThemeCheck.objects.update_or_create(
            theme=theme,
            answer_id=answer_id,
            defaults={
                "is_right": bool(is_right),
                "checked_by": by,
                "checked_at": timezone.now(),
                "taxonomy": queries.taxonomy().version,
            },
        )
    return check


def to_check(theme: Theme, n: int = SAMPLE) -> list[tuple[int, str]]:
    """(answer id, text) of up to ``n`` comments the theme matched and nobody checked yet: a
    sample in an order that looks random and stays put."""
    checked = ThemeCheck.objects.filter(theme=theme).values("answer_id")
    links = (
        CommentTheme.objects.filter(theme=theme)
        .exclude(insight_id__in=checked)
        .exclude(insight__answer__text="")
        .annotate(shuffle=Mod(F("insight_id") * _HASH_MULTIPLIER + theme.pk, _HASH_MODULUS))
        .order_by("shuffle", "insight_id")
    )
    return list(links.values_list("insight_id", "insight__answer__text")[:n])


def _still_matched() -> Q:
    """A check whose theme still matches its comment."""
    return Q(answer__insight__theme_links__theme=F("theme"))


def counts() -> dict[int, ThemeCounts]:
    """Theme id → its :class:`ThemeCounts`, for every theme."""
    matched = dict(
        CommentTheme.objects.values("theme").annotate(n=Count("pk")).values_list("theme", "n")
    )
    checks = {
        theme: (checked, right)
        for theme, checked, right in ThemeCheck.objects.filter(_still_matched())
        .values("theme")
        .annotate(checked=Count("pk"), right=Count("pk", filter=Q(is_right=True)))
        .values_list("theme", "checked", "right")
    }
    return {
        theme: ThemeCounts(matched.get(theme, 0), *checks.get(theme, (0, 0)))
        for theme in Theme.objects.values_list("pk", flat=True)
    }


def counts_of(theme: Theme) -> ThemeCounts:
    """The :class:`ThemeCounts` of one theme."""
    comments = CommentTheme.objects.filter(theme=theme).count()
    checks = ThemeCheck.objects.filter(_still_matched(), theme=theme).aggregate(
        checked=Count("pk"), right=Count("pk", filter=Q(is_right=True))
    )
    return ThemeCounts(comments, checks["checked"], checks["right"])
