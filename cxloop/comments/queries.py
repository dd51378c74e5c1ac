"""Read side of the comments: the taxonomy as :mod:`cxloop.text` takes it, the comments to
enrich, and what was found in them."""

import hashlib
import json
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.db.models.functions import Substr

from cxloop.comments.models import CommentInsight, CommentTheme, Theme
from cxloop.surveys.models import Answer, ResponseState, SurveyKind


@dataclass(frozen=True)
class Taxonomy:
    """The active themes: their phrases by code (what cxloop.text matches), their ids by code,
    and a version that changes whenever a phrase, a code or the set of themes does."""

    phrases: dict[str, list[str]]
    ids: dict[str, int]
    version: str


def themes() -> QuerySet[Theme]:
    return Theme.objects.all()


def taxonomy() -> Taxonomy:
    active = list(Theme.objects.filter(is_active=True))
    phrases = {theme.code: theme.phrases for theme in active if theme.phrases}
    text = json.dumps(list(phrases.items()), ensure_ascii=False)
    return Taxonomy(
        phrases=phrases,
        ids={theme.code: theme.pk for theme in active},
        version=hashlib.sha256(text.encode()).hexdigest()[:16],
    )


def customer_comments() -> QuerySet[Answer]:
    """Comments of customers: non-empty text answers of completed responses (the employee
    pulse surveys' comments stay out: they are anonymous and not the customers')."""
    return (
        Answer.objects.filter(kind="text", response__state=ResponseState.COMPLETED)
        .exclude(text="")
        .exclude(response__survey__kind=SurveyKind.PULSE)
    )


def have_comments(response_ids: list[int]) -> bool:
    """Whether any of these (announced, so not pulse) responses has a comment. Asked inside the
    announcement's transaction: through the answers' (kind, score, response) index, a text
    answer having no score, it reads these responses' comments alone, not every comment."""
    texts = Answer.objects.filter(kind="text", score__isnull=True, response_id__in=response_ids)
    return texts.exclude(text="").exists()


def unthemed_comments(limit: int, *, scan: int, length: int) -> list[str]:
    """The texts (each cut to ``length`` characters) of the ``limit`` comments recorded last
    that were enriched and matched no theme: what the taxonomy does not cover yet. Only the
    ``scan`` comments enriched last are looked at, so that the read stays bounded (through the
    insights' unique answer index) when nearly every comment has a theme."""
    floor = list(
        CommentInsight.objects.order_by("-answer_id").values_list("answer_id", flat=True)[
            scan - 1 : scan
        ]
    )
    rows = customer_comments().filter(insight__isnull=False, insight__theme_links__isnull=True)
    if floor:
        rows = rows.filter(pk__gte=floor[0])
    rows = rows.annotate(cut=Substr("text", 1, length)).order_by("-pk")
    return list(rows.values_list("cut", flat=True)[:limit])


def comments_of(response_ids: list[int]) -> list[tuple[int, int, str]]:
    """(answer id, response id, text) of the comments of these responses."""
    rows = customer_comments().filter(response_id__in=response_ids)
    return list(rows.order_by("pk").values_list("pk", "response_id", "text"))


def stale_comments(engine: str, version: str, *, after: int, limit: int) -> list[tuple]:
    """(answer id, response id, text) of up to ``limit`` comments after the answer id
    ``after``, in id order, that were never enriched or were enriched with another engine or
    taxonomy."""
    current = Q(insight__engine=engine, insight__taxonomy=version)
    rows = customer_comments().filter(pk__gt=after).exclude(current)
    return list(rows.order_by("pk").values_list("pk", "response_id", "text")[:limit])


def comment_counts(engine: str, version: str) -> tuple[int, int]:
    """How many comments there are, and how many of them are enriched as of ``engine`` and
    ``version``."""
    comments = customer_comments()
    current = comments.filter(insight__engine=engine, insight__taxonomy=version)
    return comments.count(), current.count()


def insight_rows(survey_ids: list[int], start, end) -> QuerySet:
    """(answer id, response id, the answer's touchpoint id, language, sentiment, score) of the
    enriched comments of the completed responses to ``survey_ids`` submitted from ``start`` to
    before ``end``, in answer id order."""
    rows = CommentInsight.objects.filter(
        response__state=ResponseState.COMPLETED,
        response__survey_id__in=survey_ids,
        response__submitted_at__gte=start,
        response__submitted_at__lt=end,
    )
    columns = (
        "answer_id",
        "response_id",
        "answer__touchpoint_id",
        "language",
        "sentiment",
        "score",
    )
    return rows.order_by("pk").values_list(*columns)


def theme_rows(survey_ids: list[int], start, end) -> list[tuple[int, int]]:
    """(answer id, theme id) of the themes found in the comments :func:`insight_rows` gives."""
    rows = CommentTheme.objects.filter(
        insight__response__state=ResponseState.COMPLETED,
        insight__response__survey_id__in=survey_ids,
        insight__response__submitted_at__gte=start,
        insight__response__submitted_at__lt=end,
    )
    return list(rows.order_by("insight_id", "theme_id").values_list("insight_id", "theme_id"))


def theme_table_rows() -> list[tuple]:
    """(id, code, name_ru, name_en, is_active) of every theme."""
    return list(
        Theme.objects.order_by("pk").values_list("pk", "code", "name_ru", "name_en", "is_active")
    )
