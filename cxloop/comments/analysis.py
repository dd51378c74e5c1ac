"""Reading comments as the enrichment does, for those that need it before the enrichment has
run (the alert rules evaluate a response as it is announced): the same engine, the same
taxonomy, so a rule's "theme" or "sentiment" agrees with what the comment will be stored with."""

from dataclasses import dataclass

from cxloop import text
from cxloop.comments import queries

_matchers: dict[str, text.ThemeMatcher] = {}


def matcher(taxonomy: queries.Taxonomy) -> text.ThemeMatcher:
    """The taxonomy compiled once per version (a process keeps the latest few)."""
    if taxonomy.version not in _matchers:
        if len(_matchers) > 4:
            _matchers.clear()
        _matchers[taxonomy.version] = text.ThemeMatcher(taxonomy.phrases)
    return _matchers[taxonomy.version]


@dataclass(frozen=True)
class Reading:
    themes: tuple[str, ...]  # theme codes, in the taxonomy's order
    sentiment: str  # "negative" | "neutral" | "positive"; "" for no comment


def read(comments: list[str], taxonomy: queries.Taxonomy | None = None) -> list[Reading]:
    """The themes and sentiment of each comment ("" reads as no theme and no sentiment); each
    distinct comment is read once."""
    taxonomy = taxonomy or queries.taxonomy()
    compiled = matcher(taxonomy)
    distinct = list(dict.fromkeys(comment for comment in comments if comment))
    feelings = text.sentiment(distinct)
    found = {
        comment: Reading(compiled.themes_of(comment), feeling.label)
        for comment, feeling in zip(distinct, feelings, strict=True)
    }
    none = Reading((), "")
    return [found.get(comment, none) if comment else none for comment in comments]
