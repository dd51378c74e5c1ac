"""The comment explorer's read side: customers' comments narrowed by filters and by a full-text
search that finds a word in any of its forms, each comment shown with its matches marked.

The search takes what PostgreSQL's ``websearch_to_tsquery`` takes: words (all of them must be
found), ``"a phrase"``, ``or`` between two words, ``-word`` for comments without it.

How a word is found in its other forms («счёт» finds «счета», «счетов»; "refund" finds
"refunds"), on each database:

- **PostgreSQL** stems both sides with the ``russian`` text-search configuration, whose parser
  sends Cyrillic words to the Russian Snowball stemmer and ASCII words to the English one (and
  folds «ё» into «е»). One configuration, not ``russian`` OR'ed with ``english``: a query OR'ed
  over two configurations lets ``-word`` through whichever branch does not stem it alike. The
  index is a GIN index on that vector (migration 0002).
- **SQLite** has no Russian stemmer: the FTS5 table ``comment_search`` (migration 0002,
  tokenizer ``porter unicode61 remove_diacritics 2``, kept current by triggers) indexes the
  words as written, the Porter stemmer taking care of English; each Russian word of the query
  is expanded to every form of its lexeme (pymorphy3's OpenCorpora dictionary, which
  :mod:`cxloop.text` already loads), spelt with «ё» and with «е». That finds exactly the forms
  of the word — no prefix that would also find «счётчик» — and needs nothing stored beside the
  text, so a comment is searchable the moment it is written, enriched or not.

Highlighting runs on the page's rows only: FTS5's ``highlight()`` or PostgreSQL's
``ts_headline`` put control characters around each match in the raw text; the text is escaped
first and only then are those characters turned into ``<mark>``, so a comment's own markup is
never read as HTML.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_noop

from cxloop.comments.choices import CommentLanguage, SentimentLabel
from cxloop.comments.queries import customer_comments
from cxloop.customers.queries import segment_by_id, segment_customers
from cxloop.lib.params import ParamError, check_text
from cxloop.surveys.bands import BANDS, band_of
from cxloop.surveys.models import Answer
from cxloop.text import word_forms
from cxloop.text.tokens import normal_word

SEARCH_MAX = 200  # characters of a search
TERMS_MAX = 8  # words and phrases of a search
FORMS_MAX = 160  # forms of one Russian word put into an SQLite query (a verb has about 100)
SHOWN_MAX = 2000  # characters of a comment shown in a list; the response shows the rest

MSG_TOO_LONG = gettext_noop("expected at most %(count)s characters")
MSG_NO_WORD = gettext_noop("expected a word to find")
MSG_TOO_MANY = gettext_noop("expected at most %(count)s words and phrases")

# Put around each match by the database; never HTML, and removed from what is shown when the
# comment itself holds one.
MARK_START, MARK_END = "\x02", "\x03"
_HEADLINE_OPTIONS = f"HighlightAll=true, StartSel={MARK_START}, StopSel={MARK_END}"

PG_VECTOR = "to_tsvector('russian'::regconfig, {column})"  # the GIN index's expression
PG_QUERY = "websearch_to_tsquery('russian'::regconfig, %s)"

NPS_BANDS = BANDS["nps"]


@dataclass(frozen=True)
class CommentFilter:
    """What the explorer is narrowed to; every field optional. ``text`` a search (see the
    module); ``theme_id`` comments speaking of the theme; ``sentiment`` a
    :class:`~cxloop.comments.choices.SentimentLabel`; ``touchpoint_id`` comments on that
    touchpoint (the answer's, or for a question about none, the response's); ``segment_id``
    customers in the segment now; ``team_ids`` customers owned by those teams; ``since``
    inclusive and ``until`` exclusive, moments of submission; ``band`` the response's NPS band
    (detractor, passive, promoter)."""

    text: str | None = None
    theme_id: int | None = None
    sentiment: str | None = None
    touchpoint_id: int | None = None
    segment_id: int | None = None
    team_ids: tuple[int, ...] | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    band: str | None = None


# --- the search's words ------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A word (one in ``words``) or a phrase (several, in order) of a search."""

    words: tuple[str, ...]
    negated: bool = False


OR_WORDS = ("or", "или")  # "счёт или долго" as "счёт or долго"
_RUSSIAN_OR = re.compile(r"(?<!\S)или(?!\S)", re.IGNORECASE)
_PIECE = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"[^\W_]+")


def parse_search(text: str) -> list[list[Term]]:
    """The search ``text`` as clauses that must all hold, each a list of terms of which one
    must be found (``a or b``); a negated term stands alone. ParamError (field ``q``) when the
    text is too long, holds no word to find, or too many."""
    check_text("q", text)
    if len(text) > SEARCH_MAX:
        raise ParamError("q", text, MSG_TOO_LONG, {"count": SEARCH_MAX})
    clauses: list[list[Term]] = []
    pending_or = False
    for match in _PIECE.finditer(text):
        negated, phrase, token = match.group(1) == "-", match.group(2), match.group(3)
        if phrase is None:
            if token.lower() in OR_WORDS:
                pending_or = bool(clauses)
                continue
            negated = token.startswith("-")
            phrase = token
        words = tuple(word.lower() for word in _WORD.findall(phrase))
        if not words:
            continue
        term = Term(words, negated)
        if pending_or and not negated and not clauses[-1][0].negated:
            clauses[-1].append(term)
        else:
            clauses.append([term])
        pending_or = False
    terms = sum(len(clause) for clause in clauses)
    if not any(not clause[0].negated for clause in clauses):
        raise ParamError("q", text, MSG_NO_WORD)
    if terms > TERMS_MAX:
        raise ParamError("q", text, MSG_TOO_MANY, {"count": TERMS_MAX})
    return clauses


def _is_russian(word: str) -> bool:
    return any("а" <= letter <= "я" for letter in normal_word(word))


def russian_forms(word: str) -> tuple[str, ...]:
    """``word`` first, then its other forms (at most FORMS_MAX in all) for an SQLite query."""
    return word_forms(word, limit=FORMS_MAX)


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _fts_term(term: Term) -> str:
    if len(term.words) > 1:  # a phrase: its words as written, in order
        return _fts_string(" ".join(term.words))
    (word,) = term.words
    if not _is_russian(word):
        return _fts_string(word)  # porter stems the query as it stemmed the text
    return "(" + " OR ".join(_fts_string(form) for form in russian_forms(word)) + ")"


def fts_query(clauses: list[list[Term]]) -> str:
    """The FTS5 MATCH expression of a parsed search."""
    found = [clause for clause in clauses if not clause[0].negated]
    expression = " AND ".join(
        "(" + " OR ".join(_fts_term(term) for term in clause) + ")" for clause in found
    )
    for (term,) in (clause for clause in clauses if clause[0].negated):
        expression = f"({expression}) NOT {_fts_term(term)}"
    return expression


def _matching(answers: QuerySet[Answer], text: str) -> QuerySet[Answer]:
    clauses = parse_search(text)
    if connection.vendor == "postgresql":
        condition = f"{PG_VECTOR.format(column='surveys_answer.text')} @@ {PG_QUERY}"
        websearch = _RUSSIAN_OR.sub("or", text)  # websearch_to_tsquery knows "or" alone
        return answers.filter(RawSQL(condition, [websearch], output_field=BooleanField()))
    if connection.vendor == "sqlite":
        found = RawSQL(
            "SELECT rowid FROM comment_search WHERE comment_search MATCH %s", [fts_query(clauses)]
        )
        return answers.filter(pk__in=found)
    raise NotImplementedError(f"comment search on {connection.vendor}")


# --- the comments --------------------------------------------------------------------------------


def comments_matching(team_ids: list[int] | None, where: CommentFilter) -> QuerySet[Answer]:
    """Customers' comments (:func:`~cxloop.comments.queries.customer_comments`) of customers
    owned by ``team_ids`` (None: all), narrowed by ``where``, newest first. ParamError (field
    ``q``) for a search that cannot be run (:func:`parse_search`)."""
    answers = customer_comments()
    if team_ids is not None:
        answers = answers.filter(response__customer__owner__team_id__in=team_ids)
    if where.team_ids is not None:
        answers = answers.filter(response__customer__owner__team_id__in=where.team_ids)
    if where.since is not None:
        answers = answers.filter(response__submitted_at__gte=where.since)
    if where.until is not None:
        answers = answers.filter(response__submitted_at__lt=where.until)
    if where.segment_id is not None:
        segment = segment_by_id(where.segment_id)
        members = segment_customers(segment).values("pk") if segment else []
        answers = answers.filter(response__customer_id__in=members)
    if where.touchpoint_id is not None:
        answers = answers.filter(
            Q(touchpoint_id=where.touchpoint_id)
            | Q(touchpoint=None, response__touchpoint_id=where.touchpoint_id)
        )
    if where.theme_id is not None:
        # A join, not IN (subquery): SQLite then starts from the theme's few comments
        # (comment_theme_by_theme) rather than every response of the period (1.7 s → 9 ms on
        # the demo with a date); one link per comment and theme, so no row twice.
        answers = answers.filter(insight__theme_links__theme_id=where.theme_id)
    if where.sentiment is not None:
        answers = answers.filter(insight__sentiment=where.sentiment)
    if where.band is not None:
        low, high = NPS_BANDS[where.band]
        scored = Answer.objects.filter(kind="nps", score__gte=low, score__lte=high)
        answers = answers.filter(response_id__in=scored.values("response_id"))
    if where.text:
        answers = _matching(answers, where.text)
    return (
        answers.select_related("response__customer", "insight")
        .prefetch_related("insight__themes")
        .order_by("-response__submitted_at", "-pk")
    )


@dataclass(frozen=True)
class ThemeTag:
    id: int
    name: str


@dataclass(frozen=True)
class CommentRow:
    """A comment as the explorer shows it: ``html`` its text, escaped, the search's matches
    in ``<mark>``; what :mod:`cxloop.text` found in it (empty until it is enriched); its
    response's NPS and band."""

    answer_id: int
    response_id: int
    submitted_at: dt.datetime
    customer_id: int | None
    customer_name: str
    html: SafeString
    language: str
    language_label: str
    sentiment: str
    sentiment_label: str
    themes: tuple[ThemeTag, ...]
    nps: int | None
    nps_band: str | None


def comment_rows(answers, text: str | None = None) -> list[CommentRow]:
    """:class:`CommentRow` of each of ``answers`` (a page of :func:`comments_matching`), the
    matches of the search ``text`` marked."""
    answers = list(answers)
    marked = _highlighted([answer.pk for answer in answers], text) if text else {}
    response_ids = [answer.response_id for answer in answers]
    nps = dict(
        Answer.objects.filter(response_id__in=response_ids, kind="nps").values_list(
            "response_id", "score"
        )
    )
    languages, sentiments = dict(CommentLanguage.choices), dict(SentimentLabel.choices)
    rows = []
    for answer in answers:
        insight = getattr(answer, "insight", None)
        response, score = answer.response, nps.get(answer.response_id)
        rows.append(
            CommentRow(
                answer_id=answer.pk,
                response_id=answer.response_id,
                submitted_at=response.submitted_at,
                customer_id=response.customer_id,
                customer_name=response.customer.name if response.customer else "",
                html=safe_html(answer.text, marked.get(answer.pk)),
                language=insight.language if insight else "",
                language_label=str(languages.get(insight.language, "")) if insight else "",
                sentiment=insight.sentiment if insight else "",
                sentiment_label=str(sentiments.get(insight.sentiment, "")) if insight else "",
                themes=tuple(ThemeTag(t.pk, t.name) for t in insight.themes.all())
                if insight
                else (),
                nps=score,
                nps_band=band_of("nps", score) if score is not None else None,
            )
        )
    return rows


def _highlighted(ids: list[int], text: str) -> dict[int, str]:
    """The texts of the comments ``ids`` with :data:`MARK_START`/:data:`MARK_END` around each
    match of the search ``text``, by answer id."""
    if not ids:
        return {}
    clauses = parse_search(text)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT id, ts_headline('russian'::regconfig, text, {PG_QUERY}, %s) "
                "FROM surveys_answer WHERE id = ANY(%s)",
                [text, _HEADLINE_OPTIONS, ids],
            )
        else:
            cursor.execute(
                f"SELECT rowid, highlight(comment_search, 0, %s, %s) FROM comment_search "
                f"WHERE comment_search MATCH %s AND rowid IN ({', '.join(['%s'] * len(ids))})",
                [MARK_START, MARK_END, fts_query(clauses), *ids],
            )
        return dict(cursor.fetchall())


def safe_html(text: str, marked: str | None = None) -> SafeString:
    """``text`` escaped for HTML, at most :data:`SHOWN_MAX` characters of it, with the matches
    ``marked`` gives (``text`` with the marks around them) in ``<mark>``. Marks are trusted
    only when removing them gives back ``text`` and ``text`` holds none of its own."""
    unmarked = text.replace(MARK_START, "").replace(MARK_END, "")
    if marked is None or unmarked != text:
        source = unmarked
    else:
        source = marked if marked.replace(MARK_START, "").replace(MARK_END, "") == text else text
    shown, inside, count = [], False, 0
    for char in source:
        if char in (MARK_START, MARK_END):
            inside = char == MARK_START
            shown.append(char)
            continue
        if count == SHOWN_MAX:
            shown.append(MARK_END if inside else "")
            shown.append("…")
            break
        shown.append(char)
        count += 1
    escaped = str(escape("".join(shown)))  # the text is the customer's: escaped before marking
    html = escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    return mark_safe(html)  # noqa: S308 — escaped above; only the marks are HTML
