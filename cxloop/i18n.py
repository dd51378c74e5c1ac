"""Records that carry their own text in Russian and English (``name_ru``/``name_en``)."""

from collections.abc import Mapping

from django.conf import settings
from django.db import models
from django.utils.formats import date_format
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext_lazy as _


def pick(texts: Mapping[str, str]) -> str:
    """The text for the active language from ``{"ru": …, "en": …}``, else the other one."""
    active = (get_language() or settings.LANGUAGE_CODE)[:2]
    for code in [active] + [code for code, _name in settings.LANGUAGES if code != active]:
        if texts.get(code):
            return texts[code]
    return ""


def localized(obj: object, field: str) -> str:
    """``obj.<field>_<language>`` in the active language, falling back to the other one."""
    return pick({code: getattr(obj, f"{field}_{code}", "") for code, _name in settings.LANGUAGES})


def second_language(primary: str, english: str) -> str:
    """A record's name kept in the firm's language (``primary``) with an optional English one:
    English pages show ``english`` where it is set, every other page the primary name."""
    active = (get_language() or settings.LANGUAGE_CODE)[:2]
    return english if active == "en" and english else primary


class NamedInTwoLanguages:
    """For a model with ``name_ru`` and ``name_en``: its ``label`` (and ``str``) in the page's
    language, by :func:`second_language`."""

    name_ru: str
    name_en: str

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return second_language(self.name_ru, self.name_en)


class TitledInTwoLanguages:
    """For a record with ``title`` and ``title_en`` that people quote by its ``reference`` (a
    case, an initiative, a decision): its ``label`` in the page's language, by
    :func:`second_language`, and its ``str``, the reference and the label."""

    title: str
    title_en: str
    reference: str

    def __str__(self) -> str:
        return f"{self.reference} {self.label}"

    @property
    def label(self) -> str:
        return second_language(self.title, self.title_en)


def english_field(verbose_name: str) -> models.CharField:
    """The optional English twin of a record's name or title (see :func:`second_language`)."""
    return models.CharField(
        verbose_name,
        max_length=200,
        blank=True,
        help_text=_("Shown on English pages; leave empty to show the same text everywhere."),
    )


def month_since(day) -> str:
    """The month of ``day`` as it reads after "since": Russian puts it in the genitive,
    «с июля 2026 г.», where the month's own format gives «Июль 2026 г.»."""
    return date_format(day, pgettext("format of a month after 'since'", "F Y"))
