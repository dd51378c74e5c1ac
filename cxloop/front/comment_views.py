"""The comment explorer: what customers wrote, newest first, searched in any form of a word and
narrowed by theme, sentiment, touchpoint, segment, team, dates and NPS band
(:mod:`cxloop.comments.search` does the reading)."""

import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from cxloop.comments import search
from cxloop.comments.choices import SentimentLabel
from cxloop.comments.queries import themes
from cxloop.customers.queries import all_segments, segment_by_id
from cxloop.front.evidence_views import (
    BAND_CLASSES,
    MSG_NO_RECORD,
    MSG_NO_TEAM,
    CappedPaginator,
)
from cxloop.front.filters import day_filter, refuse_filter, row_id_filter
from cxloop.journeys.queries import journey_touchpoints
from cxloop.lib.params import ParamError
from cxloop.people.queries import subtree_ids, visible_team_ids, visible_teams
from cxloop.surveys.bands import BAND_LABELS

PER_PAGE = 50

# The filters in the order they are written back into links.
COMMENT_FILTERS = (
    "q",
    "theme",
    "sentiment",
    "touchpoint",
    "segment",
    "team",
    "since",
    "until",
    "band",
)
# A sentiment's badge on the colour scale the score bands use: the bad end dark.
SENTIMENT_CLASSES = {"negative": "cx-score-1", "neutral": "cx-score-3", "positive": "cx-score-5"}


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _choice(request, name: str, label: str, allowed, accepted: dict) -> str | None:
    """The value of ``name`` if it is one of ``allowed``; refused with a message otherwise."""
    raw = request.GET.get(name, "")
    if not raw:
        return None
    if raw not in allowed:
        reason = _("expected one of %(values)s") % {"values": ", ".join(allowed)}
        refuse_filter(request, label, reason)
        return None
    accepted[name] = raw
    return raw


def _known(request, name, label, value, known: bool, reason: str, accepted: dict):
    """``value`` when ``known``; otherwise left out with ``reason`` (and out of the links)."""
    if value is None or known:
        return value
    refuse_filter(request, label, _(reason))
    accepted.pop(name, None)
    return None


def parse_comment_filters(
    request: HttpRequest, teams
) -> tuple[search.CommentFilter, dict[str, str]]:
    """The explorer's filters from the query string; each bad one is refused with a message
    naming it, and left out."""
    accepted: dict[str, str] = {}
    text = request.GET.get("q", "").strip()
    if text:
        try:
            search.parse_search(text)
            accepted["q"] = text
        except ParamError as error:
            refuse_filter(request, _("Search"), _(error.template) % error.params)
            text = ""
    theme_id = row_id_filter(request, "theme", _("Theme"), accepted)
    theme_ids = set(themes().values_list("pk", flat=True)) if theme_id is not None else set()
    theme_id = _known(
        request, "theme", _("Theme"), theme_id, theme_id in theme_ids, MSG_NO_RECORD, accepted
    )
    sentiment = _choice(request, "sentiment", _("Sentiment"), SentimentLabel.values, accepted)
    touchpoint_id = row_id_filter(request, "touchpoint", _("Touchpoint"), accepted)
    segment_id = row_id_filter(request, "segment", _("Segment"), accepted)
    segment_known = segment_id is not None and segment_by_id(segment_id) is not None
    segment_id = _known(
        request, "segment", _("Segment"), segment_id, segment_known, MSG_NO_RECORD, accepted
    )
    team_id = row_id_filter(request, "team", _("Team"), accepted)
    team_known = team_id in {team.pk for team in teams}
    team_id = _known(request, "team", _("Team"), team_id, team_known, MSG_NO_TEAM, accepted)
    since = day_filter(request, "since", _("Submitted from"), accepted)
    until = day_filter(request, "until", _("Submitted up to"), accepted)
    band = _choice(request, "band", _("NPS band"), list(search.NPS_BANDS), accepted)
    where = search.CommentFilter(
        text=text or None,
        theme_id=theme_id,
        sentiment=sentiment,
        touchpoint_id=touchpoint_id,
        segment_id=segment_id,
        team_ids=tuple(subtree_ids(team_id)) if team_id is not None else None,
        since=_day_start(since) if since else None,
        until=_day_start(until + dt.timedelta(days=1)) if until else None,
        band=band,
    )
    ordered = {name: accepted[name] for name in COMMENT_FILTERS if name in accepted}
    return where, ordered


@login_required
def comment_list(request: HttpRequest) -> HttpResponse:
    """Customers' comments, newest first, 50 a page (counted up to
    :attr:`CappedPaginator.cap`), each with its date, customer, text (the search's matches
    marked), language, sentiment, themes and its response's NPS, linking to the response.

    Query string, every parameter optional, a bad one refused with a message and left out:
    ``q`` a search (words in any form, ``"a phrase"``, ``or``, ``-word``); ``theme`` a theme
    id; ``sentiment`` negative | neutral | positive; ``touchpoint`` a touchpoint id (the
    answer's, else the response's); ``segment`` a segment id (customers in it now); ``team``
    a team id (customers of that team or one below it); ``since``, ``until`` days YYYY-MM-DD,
    inclusive; ``band`` the response's NPS band: detractor | passive | promoter.
    Scoped as every feedback read: a user sees the comments of their teams' customers only."""
    teams = list(visible_teams(request.user))
    where, accepted = parse_comment_filters(request, teams)
    comments = search.comments_matching(visible_team_ids(request.user), where)
    page = CappedPaginator(comments, PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "comment": row,
            "sentiment_css": SENTIMENT_CLASSES.get(row.sentiment, ""),
            "nps_css": BAND_CLASSES.get(row.nps_band, ""),
        }
        for row in search.comment_rows(page.object_list, where.text)
    ]
    context = {
        "page": page,
        "rows": rows,
        "filters": accepted,
        "query": urlencode(accepted),
        "themes": themes(),
        "sentiments": SentimentLabel.choices,
        "touchpoints": journey_touchpoints(),
        "segments": all_segments(),
        "teams": teams,
        "bands": [(band, BAND_LABELS[band]) for band in search.NPS_BANDS],
    }
    return render(request, "front/comments/comment_list.html", context)
