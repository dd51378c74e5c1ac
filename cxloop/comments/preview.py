"""A theme's draft phrases tried on the latest comments before they are saved: how many they
match, examples with the matched words marked, and which comments the change would gain and
lose against the saved phrases. Reads only; bounded by :data:`PREVIEW_COMMENTS`."""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cxloop import text
from cxloop.comments import queries

# The latest customer comments a preview reads: matching takes about 0.4 ms a comment of twenty
# words, so a preview answers in about two seconds whatever the number of comments stored.
PREVIEW_COMMENTS = 5000
EXAMPLES = 20  # comments shown that the draft matches
CHANGES = 10  # comments shown of those gained, and of those lost

_DRAFT, _SAVED = "draft", "saved"


@dataclass(frozen=True)
class Example:
    answer_id: int
    response_id: int
    submitted_at: dt.datetime | None
    html: SafeString  # the comment, escaped, its matched words in <mark>


@dataclass(frozen=True)
class Preview:
    read: int  # comments read: the latest, at most PREVIEW_COMMENTS
    matched: int  # of them, those the draft matches
    examples: list[Example]  # the latest of those, at most EXAMPLES
    compared: bool  # whether there were saved phrases to compare with
    gained: int  # matched by the draft, not by the saved phrases
    lost: int  # matched by the saved phrases, not by the draft
    gained_examples: list[Example]
    lost_examples: list[Example]

    @property
    def share(self) -> float | None:
        return self.matched / self.read if self.read else None


def draft_phrases(**fields: str) -> list[str]:
    """The phrases of ``fields`` (phrases_ru, phrases_en: one a line), each checked as the
    matcher reads it; the phrases it cannot read are refused, each named under its field."""
    phrases, refused = [], {}
    for field, value in fields.items():
        for line in (value or "").splitlines():
            if not line.strip():
                continue
            if not readable(line):
                message = _("“%(phrase)s” has no word to match.") % {"phrase": line.strip()}
                refused.setdefault(field, []).append(message)
            phrases.append(line.strip())
    if refused:
        raise ValidationError(refused)
    return phrases


def readable(phrase: str) -> bool:
    """Whether the matcher can read the phrase: it has a word besides negations and function
    words ("не", "и", "the" alone have none)."""
    try:
        text.ThemeMatcher({"phrase": [phrase]})
    except ValueError:
        return False
    return True


def highlighted(comment: str, spans) -> SafeString:
    """The comment escaped, the text of each (start, end) span in <mark>."""
    parts, previous = [], 0
    for start, end in spans:
        parts.append(escape(comment[previous:start]))
        parts.append(f"<mark>{escape(comment[start:end])}</mark>")
        previous = end
    parts.append(escape(comment[previous:]))
    return mark_safe("".join(parts))  # every piece of the comment is escaped above


def latest_comments(limit: int = PREVIEW_COMMENTS) -> list[tuple]:
    """(answer id, response id, submitted at, text) of the ``limit`` comments recorded last."""
    rows = queries.customer_comments().order_by("-pk")
    return list(rows.values_list("pk", "response_id", "response__submitted_at", "text")[:limit])


def preview(
    phrases: list[str],
    saved: list[str] | None = None,
    *,
    limit: int = PREVIEW_COMMENTS,
    examples: int = EXAMPLES,
    changes: int = CHANGES,
) -> Preview:
    """What ``phrases`` match among the latest ``limit`` comments, and, when ``saved`` (the
    phrases saved now) is given, which comments the change gains and loses."""
    # A saved phrase the matcher cannot read matches nothing (enrichment would refuse it).
    saved_phrases = [phrase for phrase in saved or [] if readable(phrase)]
    matcher = text.ThemeMatcher({_DRAFT: phrases, _SAVED: saved_phrases})
    matched, gained, lost = [], [], []
    rows = latest_comments(limit)
    for answer_id, response_id, submitted_at, comment in rows:
        themes = matcher.themes_of(comment)
        in_draft, in_saved = _DRAFT in themes, _SAVED in themes
        row = (answer_id, response_id, submitted_at, comment)
        if in_draft:
            matched.append(row)
        if saved is not None and in_draft and not in_saved:
            gained.append(row)
        if saved is not None and in_saved and not in_draft:
            lost.append(row)

    def shown(rows: list[tuple], theme: str, n: int) -> list[Example]:
        return [
            Example(
                answer_id,
                response_id,
                moment,
                highlighted(comment, matcher.spans_of(comment, theme)),
            )
            for answer_id, response_id, moment, comment in rows[:n]
        ]

    return Preview(
        read=len(rows),
        matched=len(matched),
        examples=shown(matched, _DRAFT, examples),
        compared=saved is not None,
        gained=len(gained),
        lost=len(lost),
        gained_examples=shown(gained, _DRAFT, changes),
        lost_examples=shown(lost, _SAVED, changes),
    )
