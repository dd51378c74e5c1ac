"""Write side of the comments: enrich comments with what :mod:`cxloop.text` finds in them."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cxloop import text
from cxloop.comments import analysis, preview, queries
from cxloop.comments.models import CommentInsight, CommentTheme, Theme
from cxloop.comments.signals import comments_enriched
from cxloop.surveys.queries import submission_months

# Comments enriched per transaction by a rebuild: each batch commits on its own, so that a
# rebuild stopped halfway resumes where it was, and SQLite's write lock is held briefly.
REBUILD_BATCH = 2000


def save_theme(theme: Theme | None, **fields) -> Theme:
    """Create a theme (``theme`` None) or change one from ``fields`` (code, name_ru, name_en,
    phrases_ru, phrases_en, is_active, order). Each phrase is checked as :mod:`cxloop.text`
    will read it: one without a word to match ("!!!", "не" alone) is refused, naming its field
    and the phrase. Comments are
    matched against the change by the next ``cxloop text rebuild``."""
    theme = theme or Theme()
    for name, value in fields.items():
        setattr(theme, name, value)
    preview.draft_phrases(phrases_ru=theme.phrases_ru, phrases_en=theme.phrases_en)
    theme.full_clean()
    theme.save()
    return theme


def enrich(rows: list[tuple[int, int, str]], taxonomy: queries.Taxonomy | None = None) -> int:
    """Find the language, sentiment and themes of the comments ``rows`` ((answer id, response
    id, text)) and store them in place of what was stored, in one transaction; how many. Then
    :data:`~cxloop.comments.signals.comments_enriched` tells the fact store their months."""
    if not rows:
        return 0
    taxonomy = taxonomy or queries.taxonomy()
    texts = [row[2] for row in rows]
    compiled = analysis.matcher(taxonomy)
    engine = text.engine_name()
    now = timezone.now()
    insights = [
        CommentInsight(
            answer_id=answer_id,
            response_id=response_id,
            language=language,
            sentiment=feeling.label,
            score=max(-1.0, min(1.0, feeling.score)),
            engine=engine,
            taxonomy=taxonomy.version,
            enriched_at=now,
        )
        for (answer_id, response_id, _text), language, feeling in zip(
            rows, text.detect_language(texts), text.sentiment(texts), strict=True
        )
    ]
    links = [
        CommentTheme(insight_id=answer_id, theme_id=taxonomy.ids[code])
        for (answer_id, _response, comment) in rows
        for code in compiled.themes_of(comment)
    ]
    ids = [row[0] for row in rows]
    with transaction.atomic():
        CommentInsight.objects.filter(pk__in=ids).delete()
        CommentInsight.objects.bulk_create(insights)
        CommentTheme.objects.bulk_create(links)
        months = submission_months({row[1] for row in rows})
        transaction.on_commit(lambda: comments_enriched.send(sender=CommentInsight, months=months))
    return len(insights)


def enrich_responses(response_ids: list[int]) -> int:
    """Enrich the comments of these responses (those just announced); how many."""
    return enrich(queries.comments_of(response_ids))


@dataclass(frozen=True)
class Rebuilt:
    comments: int  # enriched by this run
    total: int  # comments there are


def rebuild(
    *, progress: Callable[[int, int], None] | None = None, batch: int = REBUILD_BATCH
) -> Rebuilt:
    """Enrich every comment not enriched with the current engine and taxonomy, a committed batch
    at a time (a rebuild stopped halfway resumes where it was: what it enriched stays current).
    ``progress(done, to_do)`` is called after each batch."""
    taxonomy = queries.taxonomy()
    engine = text.engine_name()
    total, current = queries.comment_counts(engine, taxonomy.version)
    to_do, done, after = total - current, 0, 0
    while rows := queries.stale_comments(engine, taxonomy.version, after=after, limit=batch):
        done += enrich(rows, taxonomy)
        after = rows[-1][0]
        if progress is not None:
            progress(done, to_do)
    return Rebuilt(comments=done, total=total)


def forget_blanked() -> int:
    """Remove what was found in comments whose text is gone (erased, or kept past retention):
    their themes and sentiment would still speak of them. How many."""
    return (
        CommentInsight.objects.filter(answer__text="").delete()[1].get("comments.CommentInsight", 0)
    )
