"""The condition language of alert rules: what a response must show to raise a case.

A condition is JSON (kept in :attr:`AlertRuleVersion.condition`): a group ``{"all": [...]}``
(every part holds) or ``{"any": [...]}`` (at least one does), nestable, whose leaves are
``{"field": F, "op": OP, "value": V}``:

================= ===================== ===============================================
field             op                    value
================= ===================== ===============================================
nps, csat, ces    lte, gte, eq          a whole number on the scale (0–10, 1–5, 1–7)
touchpoint_rating lte, gte              1–5; optional ``"touchpoint": code`` (absent: any)
comment           contains_any          words or phrases, matched on lemmas (every form of a
                                        word, one typo in a long one; not when negated)
theme             in                    theme codes: the comment speaks of one of them
sentiment         in                    negative, neutral, positive: the comment's sentiment
tier              in                    customer tiers
annual_value      gte, lte              a number, the customer's annual value
segment           in                    segment ids
target_segment    is                    true: the customer is in a target segment
nps_drop          gte                   points the contact's NPS fell against their last
channel           in                    survey channels
================= ===================== ===============================================

:func:`parse_condition` checks a condition (naming the place and the value of what is wrong,
impossible conditions included) and returns its tree; :func:`matches` evaluates it for one
response's :class:`ResponseFacts` and :func:`evaluate_table` for a whole :class:`FactTable`
at once (the two agree; a test holds them to it).
"""

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cxloop import text
from cxloop.comments.analysis import Reading, read
from cxloop.comments.choices import SentimentLabel
from cxloop.comments.queries import themes
from cxloop.customers.models import Tier
from cxloop.customers.queries import all_segments
from cxloop.journeys.models import Touchpoint
from cxloop.lib.scales import SCORE_RANGES
from cxloop.surveys.models import Channel

SCORE_FIELDS = ("nps", "csat", "ces")
FIELD_OPS: dict[str, tuple[str, ...]] = {
    "nps": ("lte", "gte", "eq"),
    "csat": ("lte", "gte", "eq"),
    "ces": ("lte", "gte", "eq"),
    "touchpoint_rating": ("lte", "gte"),
    "comment": ("contains_any",),
    "theme": ("in",),
    "sentiment": ("in",),
    "tier": ("in",),
    "annual_value": ("gte", "lte"),
    "segment": ("in",),
    "target_segment": ("is",),
    "nps_drop": ("gte",),
    "channel": ("in",),
}
FIELD_LABELS = {
    "nps": gettext_lazy("NPS"),
    "csat": gettext_lazy("CSAT"),
    "ces": gettext_lazy("CES"),
    "touchpoint_rating": gettext_lazy("touchpoint rating"),
    "comment": gettext_lazy("comment"),
    "theme": gettext_lazy("comment's theme"),
    "sentiment": gettext_lazy("comment's sentiment"),
    "tier": gettext_lazy("customer tier"),
    "annual_value": gettext_lazy("annual value"),
    "segment": gettext_lazy("segment"),
    "target_segment": gettext_lazy("target segment"),
    "nps_drop": gettext_lazy("NPS drop against the contact's previous answer"),
    "channel": gettext_lazy("channel"),
}
OP_LABELS = {
    "lte": gettext_lazy("at most"),
    "gte": gettext_lazy("at least"),
    "eq": gettext_lazy("equals"),
    "contains_any": gettext_lazy("mentions any of"),
    "in": gettext_lazy("is one of"),
    "is": gettext_lazy("is"),
}
PHRASES_MAX = 50  # words or phrases in one comment condition
PHRASE_LENGTH_MAX = 100
DEPTH_MAX = 4  # groups inside groups; deeper is a rule nobody can read
CHOICES_SHOWN = 20  # allowed values a refusal lists
RATING_SCALE = SCORE_RANGES["rating"]
NPS_SCALE = SCORE_RANGES["nps"]


def tier_choices() -> list[tuple[str, str]]:
    """The customer tiers a condition may name, for forms that cannot import the models."""
    return list(Tier.choices)


def channel_choices() -> list[tuple[str, str]]:
    return list(Channel.choices)


def sentiment_choices() -> list[tuple[str, str]]:
    return list(SentimentLabel.choices)


def theme_choices() -> list[tuple[str, str]]:
    """(code, name) of every active theme, for forms; each name in both languages."""
    active = themes().filter(is_active=True)
    return [(t.code, name) for t in active for name in (t.name_ru, t.name_en) if name]


class ConditionError(ValueError):
    """A condition that cannot be used; the (translated) message names the place (``path``,
    such as ``all › 2``), the field and the value."""

    def __init__(self, message: str, path: str = "", detail: str = ""):
        super().__init__(message)
        self.path = path
        self.detail = detail or message  # without the place: for a form that shows it by its row


@dataclass(frozen=True)
class Leaf:
    field: str
    op: str
    value: object  # int, Decimal, True, or a tuple of strings / ids, normalised by the parser
    touchpoint_id: int | None = None
    touchpoint_code: str = ""


@dataclass(frozen=True)
class Group:
    combinator: str  # "all" or "any"
    parts: tuple


Node = Leaf | Group


def _shown(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _fail(path: str, field_name: str, problem: str, value: object) -> ConditionError:
    place = f"{path} ({FIELD_LABELS.get(field_name, field_name)})" if field_name else path
    detail = _("%(problem)s, got %(value)s") % {"problem": problem, "value": _shown(value)}
    return ConditionError(
        _("%(place)s: %(detail)s") % {"place": place or _("condition"), "detail": detail},
        path,
        detail,
    )


def _whole(path: str, name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise _fail(path, name, _("expected a whole number"), value)
    if not low <= value <= high:
        raise _fail(
            path,
            name,
            _("expected a number from %(low)s to %(high)s") % {"low": low, "high": high},
            value,
        )
    return value


def _list(path: str, name: str, value: object) -> list:
    if not isinstance(value, list) or not value:
        raise _fail(path, name, _("expected a non-empty list"), value)
    return value


def _choices(
    path: str,
    name: str,
    value: object,
    codes: Sequence[str],
    labelled: Callable[[], Sequence[tuple[str, object]]],
) -> tuple[str, ...]:
    """The codes of ``value``, each one of ``codes``; a refusal lists the allowed values by
    label (``labelled()``: (code, label) pairs, read only then), with the code a condition
    written as JSON uses, the first :data:`CHOICES_SHOWN` of them."""
    values = _list(path, name, value)
    unknown = [v for v in values if v not in codes]
    if unknown:
        pairs = list(labelled())
        allowed = ", ".join(_choice_shown(code, label) for code, label in pairs[:CHOICES_SHOWN])
        if len(pairs) > CHOICES_SHOWN:
            allowed += ", …"
        raise _fail(
            path,
            name,
            _("unknown value %(unknown)s; expected some of %(allowed)s")
            % {"unknown": _shown(unknown[0]), "allowed": allowed or "—"},
            value,
        )
    return tuple(dict.fromkeys(values))


def _active_theme_names() -> list[tuple[str, str]]:
    return [(theme.code, theme.name) for theme in themes().filter(is_active=True)]


def _choice_shown(code: str, label: object) -> str:
    if str(label).casefold() == code.casefold():
        return code
    return _("%(label)s (%(code)s)") % {"label": label, "code": code}


def _phrases(path: str, value: object) -> tuple[str, ...]:
    values = _list(path, "comment", value)
    if len(values) > PHRASES_MAX:
        raise _fail(
            path, "comment", _("expected at most %(count)s phrases") % {"count": PHRASES_MAX}, value
        )
    phrases = []
    for phrase in values:
        if not isinstance(phrase, str) or not phrase.strip():
            raise _fail(path, "comment", _("expected words or phrases, none empty"), value)
        if len(phrase) > PHRASE_LENGTH_MAX:
            raise _fail(
                path,
                "comment",
                _("expected phrases of at most %(count)s characters")
                % {"count": PHRASE_LENGTH_MAX},
                phrase,
            )
        if not text.lemmas(phrase):
            raise _fail(path, "comment", _("expected words or phrases, none empty"), value)
        phrases.append(" ".join(phrase.split()))
    return tuple(dict.fromkeys(phrases))


def _segment_ids(path: str, value: object) -> tuple[int, ...]:
    values = _list(path, "segment", value)
    ids = []
    for raw in values:
        if isinstance(raw, str) and raw.strip().isdigit():
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise _fail(path, "segment", _("expected segment ids"), value)
        ids.append(raw)
    known = set(all_segments().filter(pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in known]
    if missing:
        raise _fail(path, "segment", _("no such segment: %(id)s") % {"id": missing[0]}, value)
    return tuple(dict.fromkeys(ids))


def _touchpoint(path: str, code: object) -> int:
    if not isinstance(code, str) or not code:
        raise _fail(path, "touchpoint_rating", _("expected a touchpoint code"), code)
    found = Touchpoint.objects.filter(code=code).values_list("pk", flat=True).first()
    if found is None:
        raise _fail(path, "touchpoint_rating", _("no such touchpoint"), code)
    return found


def _leaf(path: str, raw: dict) -> Leaf:
    name, op, value = raw.get("field"), raw.get("op"), raw.get("value")
    extra = set(raw) - {"field", "op", "value", "touchpoint"}
    if extra or "touchpoint" in raw and name != "touchpoint_rating":
        raise _fail(path, name or "", _("unexpected keys"), sorted(extra or {"touchpoint"}))
    if name not in FIELD_OPS:
        raise _fail(
            path,
            "",
            _("unknown field; expected one of %(fields)s") % {"fields": ", ".join(FIELD_OPS)},
            name,
        )
    if op not in FIELD_OPS[name]:
        raise _fail(
            path,
            name,
            _("unknown op %(op)s; expected one of %(ops)s")
            % {"op": _shown(op), "ops": ", ".join(FIELD_OPS[name])},
            op,
        )
    if name in SCORE_FIELDS:
        return Leaf(name, op, _whole(path, name, value, *SCORE_RANGES[name]))
    if name == "touchpoint_rating":
        code = raw.get("touchpoint") or ""
        return Leaf(
            name,
            op,
            _whole(path, name, value, *RATING_SCALE),
            touchpoint_id=_touchpoint(path, code) if code else None,
            touchpoint_code=code,
        )
    if name == "comment":
        return Leaf(name, op, _phrases(path, value))
    if name == "theme":
        known = list(themes().filter(is_active=True).values_list("code", flat=True))
        return Leaf(name, op, _choices(path, name, value, known, _active_theme_names))
    if name == "sentiment":
        codes, labelled = SentimentLabel.values, lambda: SentimentLabel.choices
        return Leaf(name, op, _choices(path, name, value, codes, labelled))
    if name == "tier":
        return Leaf(name, op, _choices(path, name, value, Tier.values, lambda: Tier.choices))
    if name == "channel":
        codes, labelled = Channel.values, lambda: Channel.choices
        return Leaf(name, op, _choices(path, name, value, codes, labelled))
    if name == "segment":
        return Leaf(name, op, _segment_ids(path, value))
    if name == "target_segment":
        if value is not True:
            raise _fail(path, name, _("expected true"), value)
        return Leaf(name, op, True)
    if name == "nps_drop":
        return Leaf(name, op, _whole(path, name, value, 1, NPS_SCALE[1]))
    # annual_value
    try:
        amount = Decimal(str(value)) if not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise _fail(path, name, _("expected an amount of at least 0"), value)
    return Leaf(name, op, amount)


def _check_possible(path: str, parts: tuple) -> None:
    """An ``all`` group whose leaves contradict one another (NPS ≤ 3 and NPS ≥ 8) matches
    nothing: refused, naming the field, rather than saved as a rule that never fires."""
    bounds: dict[tuple, list] = {}
    sets: dict[str, set] = {}
    for position, leaf in enumerate(parts, start=1):
        if not isinstance(leaf, Leaf):
            continue
        here = f"{path} › {position}"
        key: tuple | None = None
        if leaf.field in SCORE_FIELDS or leaf.field == "annual_value":
            key = (leaf.field,)
        elif leaf.field == "touchpoint_rating" and leaf.touchpoint_id is not None:
            key = (leaf.field, leaf.touchpoint_id)
        if key is not None:
            low, high = bounds.setdefault(key, [None, None])
            if leaf.op in ("gte", "eq"):
                low = leaf.value if low is None else max(low, leaf.value)
            if leaf.op in ("lte", "eq"):
                high = leaf.value if high is None else min(high, leaf.value)
            bounds[key] = [low, high]
            if low is not None and high is not None and low > high:
                raise _fail(here, leaf.field, _("these conditions cannot all hold"), leaf.value)
        elif leaf.field in ("tier", "channel"):
            kept = sets.setdefault(leaf.field, set(leaf.value)) & set(leaf.value)
            sets[leaf.field] = kept
            if not kept:
                raise _fail(here, leaf.field, _("these conditions cannot all hold"), leaf.value)


def _node(path: str, raw: object, depth: int) -> Node:
    if not isinstance(raw, dict):
        raise _fail(path, "", _("expected an object"), raw)
    groups = [key for key in ("all", "any") if key in raw]
    if not groups:
        return _leaf(path, raw)
    if len(raw) != 1:
        raise _fail(path, "", _("a group is one key, all or any"), sorted(raw))
    combinator = groups[0]
    here = f"{path} › {combinator}" if path else combinator
    if depth >= DEPTH_MAX:
        raise _fail(
            here, "", _("groups nest at most %(count)s deep") % {"count": DEPTH_MAX}, combinator
        )
    items = raw[combinator]
    if not isinstance(items, list) or not items:
        raise _fail(here, "", _("a group needs at least one condition"), items)
    parts = tuple(
        _node(f"{here} › {position}", item, depth + 1)
        for position, item in enumerate(items, start=1)
    )
    if combinator == "all":
        _check_possible(here, parts)
    return Group(combinator, parts)


def parse_condition(data: object) -> Node:
    """The tree of ``data``, checked; raises :class:`ConditionError` naming the place, field
    and value of the first problem (unknown fields or ops, values off the scale, unknown
    touchpoints, segments or tiers, empty groups, an ``all`` group that can never hold)."""
    return _node("", data, 0)


# Words of a comment -------------------------------------------------------------------------
# Matched on lemmas by cxloop.text, as themes are: every case and number of a word, one typo in a
# word of five letters or more, and not where the comment negates the word ("не груб").


@functools.lru_cache(maxsize=256)
def _phrase_matcher(phrases: tuple[str, ...]) -> text.ThemeMatcher:
    return text.ThemeMatcher({"phrases": list(phrases)})


def comment_matches(comment: str, phrases: tuple[str, ...]) -> bool:
    """Whether ``comment`` speaks of any of ``phrases`` (on lemmas, as a theme would)."""
    return bool(comment) and bool(_phrase_matcher(phrases).themes_of(comment))


# One response ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseFacts:
    """What the conditions read about one response (None: not answered / not known). A score
    asked twice in one response counts by its lowest answer."""

    nps: int | None = None
    csat: int | None = None
    ces: int | None = None
    ratings: dict[int, int] = field(default_factory=dict)  # touchpoint id → lowest rating
    comment: str = ""
    tier: str = ""
    annual_value: Decimal | None = None
    segment_ids: frozenset[int] = frozenset()
    in_target_segment: bool = False
    nps_drop: int | None = None  # the contact's previous NPS minus this one
    channel: str = ""
    reading: Reading | None = None  # the comment's themes and sentiment (None: read it)

    def read_comment(self) -> Reading:
        return self.reading if self.reading is not None else read([self.comment])[0]


def _compare(actual, op: str, value) -> bool:
    if actual is None:
        return False
    return {"lte": actual <= value, "gte": actual >= value, "eq": actual == value}[op]


def _leaf_matches(leaf: Leaf, facts: ResponseFacts) -> bool:
    name = leaf.field
    if name in SCORE_FIELDS or name == "annual_value" or name == "nps_drop":
        return _compare(getattr(facts, name), leaf.op, leaf.value)
    if name == "touchpoint_rating":
        if leaf.touchpoint_id is not None:
            return _compare(facts.ratings.get(leaf.touchpoint_id), leaf.op, leaf.value)
        return any(_compare(score, leaf.op, leaf.value) for score in facts.ratings.values())
    if name == "comment":
        return comment_matches(facts.comment, leaf.value)
    if name == "theme":
        return not set(facts.read_comment().themes).isdisjoint(leaf.value)
    if name == "sentiment":
        return facts.read_comment().sentiment in leaf.value
    if name == "tier":
        return facts.tier in leaf.value
    if name == "channel":
        return facts.channel in leaf.value
    if name == "segment":
        return not facts.segment_ids.isdisjoint(leaf.value)
    return facts.in_target_segment  # target_segment


def matches(node: Node, facts: ResponseFacts) -> bool:
    """Whether one response's facts satisfy the condition: the plain reference for
    :func:`evaluate_table`."""
    if isinstance(node, Leaf):
        return _leaf_matches(node, facts)
    combine = all if node.combinator == "all" else any
    return combine(matches(part, facts) for part in node.parts)


# Many responses at once -----------------------------------------------------------------------

MISSING = -1  # a score not given; below every scale's lowest value
MISSING_HIGH = 127  # the lowest rating when none was given: above every scale
MISSING_DROP = -100  # no previous answer: no drop at all


@dataclass
class FactTable:
    """The facts of ``n`` responses as columns (see :class:`ResponseFacts`): scores with
    :data:`MISSING`, touchpoint ratings as long arrays (row, touchpoint, score), customers by
    id with the members of every segment given apart."""

    nps: np.ndarray
    csat: np.ndarray
    ces: np.ndarray
    rating_row: np.ndarray
    rating_touchpoint: np.ndarray
    rating_score: np.ndarray
    comments: list[str]
    tier: np.ndarray  # str, "" without a customer
    annual_value: np.ndarray  # float, NaN without a customer
    customer_id: np.ndarray  # MISSING without a customer
    channel: np.ndarray
    nps_drop: np.ndarray  # MISSING_DROP without a previous answer
    segment_members: dict[int, np.ndarray]  # segment id → sorted customer ids
    target_members: np.ndarray

    def __len__(self) -> int:
        return len(self.nps)

    @functools.cached_property
    def comment_words(self) -> dict[str, text.CommentWords]:
        """Each distinct comment's words, read once for every comment leaf ("спасибо", "ok" and
        their like recur; reading is most of what a leaf costs)."""
        return {c: text.comment_words(c) for c in set(self.comments) if c}

    @functools.cached_property
    def readings(self) -> list[Reading]:
        """Each comment's themes and sentiment, read once for every leaf that asks."""
        return read(self.comments)

    @functools.cached_property
    def lowest_rating(self) -> np.ndarray:
        lowest = np.full(len(self), MISSING_HIGH, dtype=np.int16)
        np.minimum.at(lowest, self.rating_row, self.rating_score)
        return lowest

    @functools.cached_property
    def highest_rating(self) -> np.ndarray:
        highest = np.full(len(self), MISSING, dtype=np.int16)
        np.maximum.at(highest, self.rating_row, self.rating_score)
        return highest

    def ratings_of(self, touchpoint_id: int) -> tuple[np.ndarray, np.ndarray]:
        """The lowest and highest rating of one touchpoint in each response."""
        mask = self.rating_touchpoint == touchpoint_id
        rows, scores = self.rating_row[mask], self.rating_score[mask]
        lowest = np.full(len(self), MISSING_HIGH, dtype=np.int16)
        highest = np.full(len(self), MISSING, dtype=np.int16)
        np.minimum.at(lowest, rows, scores)
        np.maximum.at(highest, rows, scores)
        return lowest, highest

    def facts(self, row: int) -> ResponseFacts:
        """One response's facts, as :func:`matches` reads them."""

        def score(column) -> int | None:
            return None if column[row] == MISSING else int(column[row])

        mask = self.rating_row == row
        ratings: dict[int, int] = {}
        for touchpoint, rating in zip(
            self.rating_touchpoint[mask].tolist(), self.rating_score[mask].tolist(), strict=True
        ):
            ratings[touchpoint] = min(rating, ratings.get(touchpoint, rating))
        customer = int(self.customer_id[row])
        return ResponseFacts(
            nps=score(self.nps),
            csat=score(self.csat),
            ces=score(self.ces),
            ratings=ratings,
            comment=self.comments[row],
            tier=str(self.tier[row]),
            annual_value=None
            if np.isnan(self.annual_value[row])
            else Decimal(str(self.annual_value[row])),
            segment_ids=frozenset(
                s for s, members in self.segment_members.items() if _has(members, customer)
            ),
            in_target_segment=_has(self.target_members, customer),
            nps_drop=None if self.nps_drop[row] == MISSING_DROP else int(self.nps_drop[row]),
            channel=str(self.channel[row]),
            reading=self.readings[row] if "readings" in self.__dict__ else None,
        )


def _has(sorted_ids: np.ndarray, customer: int) -> bool:
    position = np.searchsorted(sorted_ids, customer)
    return bool(position < len(sorted_ids) and sorted_ids[position] == customer)


def _compare_column(column: np.ndarray, op: str, value, *, missing) -> np.ndarray:
    if op == "lte":
        result = column <= value
    elif op == "gte":
        result = column >= value
    else:
        result = column == value
    return result & (column != missing) if op != "gte" else result


def _leaf_column(leaf: Leaf, table: FactTable) -> np.ndarray:
    name = leaf.field
    if name in SCORE_FIELDS:
        return _compare_column(getattr(table, name), leaf.op, leaf.value, missing=MISSING)
    if name == "nps_drop":
        return table.nps_drop >= leaf.value
    if name == "annual_value":
        value = float(leaf.value)
        values = table.annual_value
        return values <= value if leaf.op == "lte" else values >= value  # NaN compares False
    if name == "touchpoint_rating":
        if leaf.touchpoint_id is None:
            lowest, highest = table.lowest_rating, table.highest_rating
        else:
            lowest, highest = table.ratings_of(leaf.touchpoint_id)
        return lowest <= leaf.value if leaf.op == "lte" else highest >= leaf.value
    if name == "comment":
        matcher = _phrase_matcher(leaf.value)
        found = {c: bool(matcher.themes_in(w)) for c, w in table.comment_words.items()}
        return np.array([found.get(comment, False) for comment in table.comments], dtype=bool)
    if name == "theme":
        wanted = set(leaf.value)
        return np.array([not wanted.isdisjoint(r.themes) for r in table.readings], dtype=bool)
    if name == "sentiment":
        return np.array([r.sentiment in leaf.value for r in table.readings], dtype=bool)
    if name == "tier":
        return np.isin(table.tier, list(leaf.value))
    if name == "channel":
        return np.isin(table.channel, list(leaf.value))
    if name == "segment":
        members = [table.segment_members.get(s, np.empty(0, np.int64)) for s in leaf.value]
        return np.isin(table.customer_id, np.concatenate(members))
    return np.isin(table.customer_id, table.target_members)  # target_segment


def evaluate_table(node: Node, table: FactTable) -> np.ndarray:
    """A boolean per response of ``table``: whether it satisfies the condition."""
    if isinstance(node, Leaf):
        return _leaf_column(node, table)
    columns = [evaluate_table(part, table) for part in node.parts]
    reduce = np.logical_and if node.combinator == "all" else np.logical_or
    return reduce.reduce(columns) if len(columns) > 1 else columns[0]


# In words -----------------------------------------------------------------------------------


def _value_words(leaf: Leaf, names: dict) -> str:
    if leaf.field == "comment":
        return ", ".join(f"«{phrase}»" for phrase in leaf.value)
    if leaf.field == "theme":
        return ", ".join(names.get(("theme", code), code) for code in leaf.value)
    if leaf.field == "sentiment":
        return ", ".join(str(SentimentLabel(value).label) for value in leaf.value)
    if leaf.field == "tier":
        return ", ".join(str(Tier(value).label) for value in leaf.value)
    if leaf.field == "channel":
        return ", ".join(str(Channel(value).label) for value in leaf.value)
    if leaf.field == "segment":
        return ", ".join(names.get(("segment", s), f"#{s}") for s in leaf.value)
    if leaf.field == "target_segment":
        return _("yes")
    if leaf.field == "nps_drop":
        return ngettext("%(count)s point", "%(count)s points", leaf.value) % {"count": leaf.value}
    return str(leaf.value)


def describe(node: Node, names: dict | None = None) -> str:
    """The condition in words in the active language, e.g. «NPS at most 6 and (comment
    mentions any of «счёт»)». ``names`` gives labels of segments and touchpoints by
    ``("segment", id)`` and ``("touchpoint", code)``."""
    names = names or {}
    if isinstance(node, Leaf):
        subject = str(FIELD_LABELS[node.field])
        if node.touchpoint_code:
            code = node.touchpoint_code
            subject = f"{subject} «{names.get(('touchpoint', code), code)}»"
        return f"{subject} {OP_LABELS[node.op]} {_value_words(node, names)}"
    joiner = f" {_('and')} " if node.combinator == "all" else f" {_('or')} "
    words = [
        f"({describe(part, names)})" if isinstance(part, Group) else describe(part, names)
        for part in node.parts
    ]
    return joiner.join(words)


def leaves(node: Node):
    """Every leaf of the tree, depth first."""
    if isinstance(node, Leaf):
        yield node
    else:
        for part in node.parts:
            yield from leaves(part)
