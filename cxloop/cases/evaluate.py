"""Alert rules over many responses at once: load what the conditions read with a few set-based
queries per chunk, evaluate every rule's condition over the whole chunk as columns
(:func:`cxloop.cases.conditions.evaluate_table`), then open or attach cases.

Exactly one case per rule × response, whoever evaluates: CaseTrigger's unique constraint
(rule, response) and Case's partial unique constraint (one open rule case per customer) decide
between two workers; the loser attaches to the winner's case.

Plain Python over tuples was measured against NumPy columns for the evaluation itself: see
bench/bench_rules.py and bench/README.md."""

import datetime as dt
import itertools
import logging
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max

from cxloop import rows
from cxloop.cases import services
from cxloop.cases.choices import OPEN_STATES, EventKind, Origin, OwnerKind, RoutingNote
from cxloop.cases.conditions import (
    MISSING,
    MISSING_DROP,
    MISSING_HIGH,
    ConditionError,
    FactTable,
    Node,
    evaluate_table,
    leaves,
    parse_condition,
)
from cxloop.cases.models import AlertRuleVersion, Case, CaseEvent, CaseTrigger
from cxloop.customers.models import Contact, Customer
from cxloop.customers.queries import all_segments, segment_customers
from cxloop.journeys.models import Touchpoint
from cxloop.people.models import Employee, Role, Team
from cxloop.people.queries import calendars_kept
from cxloop.sqlite.base import let_waiting_writers_in
from cxloop.surveys.models import Answer, Response, ResponseState, Survey, SurveyKind

log = logging.getLogger(__name__)

T = TypeVar("T")
CHUNK = 5_000  # responses loaded and evaluated together
# Cases opened (or triggers added) per write transaction: on SQLite each holds the one write
# lock, which every INSERT of the API waits for, about 2 ms (bench/README.md, "the one way in").
WRITE_SLICE = 8
LIVE_DAYS = 14  # a live rule opens cases only for responses this recent: imports of history
# must not flood the loop; older ones only when a person runs a rule over past days.
RUN_DAYS_MAX = 365


# Loading ------------------------------------------------------------------------------------


@dataclass
class Batch:
    """Responses of one chunk in order of submission, with their facts as columns."""

    response_id: list[int]
    customer_id: list[int | None]
    contact_id: list[int | None]
    touchpoint_id: list[int | None]
    table: FactTable

    def __len__(self) -> int:
        return len(self.response_id)

    def lowest_rated_touchpoint(self, row: int) -> int | None:
        """The touchpoint rated lowest in the response (ties: the smaller id)."""
        table = self.table
        mask = (table.rating_row == row) & (table.rating_touchpoint > 0)
        if not mask.any():
            return None
        scores, touchpoints = table.rating_score[mask], table.rating_touchpoint[mask]
        return min(zip(scores.tolist(), touchpoints.tolist(), strict=True))[1]


@dataclass
class PreviousNps:
    """Each response's contact's NPS before it: response ids (sorted) and the score."""

    response_id: np.ndarray
    score: np.ndarray

    @classmethod
    def read(cls, contact_ids: list[int] | None) -> tuple["PreviousNps", int]:
        """From one ordered scan of the NPS answers of ``contact_ids``' completed responses
        (None: of every contact), with the rows read. "Before" is by (submitted_at, id), over
        all of a contact's completed responses whatever their survey; a response with two NPS
        answers counts its highest as the next one's previous."""
        response, answer = Response._meta.db_table, Answer._meta.db_table
        if contact_ids is None:
            join = f"JOIN {answer} a ON a.response_id = r.id"
            contacts, params, kind = "IS NOT NULL", [], ""
        else:
            # CROSS JOIN, ``kind || ''`` and ``state || ''``: SQLite then reads the contacts'
            # responses by contact and their answers by response; with a plain ``kind =`` it
            # looked up each response's answers in the (kind, score) index of every NPS
            # answer (minutes at 1 M), with a plain ``state =`` it walked every completed
            # response (2.7 s → 0.85 s for 4,800 contacts at 1 M). PostgreSQL plans it as
            # the plain join it is.
            join = f"CROSS JOIN {answer} a"
            contacts = f"IN ({', '.join(['%s'] * len(contact_ids))})"
            params, kind = list(contact_ids), " || ''"
        sql = (
            f"SELECT r.contact_id, r.id, a.score FROM {response} r {join} "
            f"WHERE a.response_id = r.id AND a.kind{kind} = 'nps' AND a.score IS NOT NULL "
            f"AND r.state{kind} = 'completed' AND r.contact_id {contacts} "
            "ORDER BY r.contact_id, r.submitted_at, r.id, a.score"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return cls.of_history(rows), len(rows)

    @classmethod
    def of_history(cls, rows: list[tuple[int, int, int]]) -> "PreviousNps":
        """From (contact, response, score) rows ordered by contact, submission, response id,
        score."""
        flat = np.fromiter(itertools.chain.from_iterable(rows), np.int64, count=3 * len(rows))
        contact, response, score = flat.reshape(-1, 3).T
        last = np.ones(len(response), dtype=bool)  # the last (highest) score of a response
        last[:-1] = response[1:] != response[:-1]
        contact, response, score = contact[last], response[last], score[last]
        has = np.zeros(len(response), dtype=bool)
        has[1:] = contact[1:] == contact[:-1]
        previous = np.empty(len(response), np.int16)
        previous[1:] = score[:-1]
        response, previous = response[has], previous[has]
        order = np.argsort(response, kind="stable")
        return cls(response[order], previous[order])

    def of(self, response_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, previous score) for each of ``response_ids``."""
        position = np.searchsorted(self.response_id, response_ids)
        position[position == len(self.response_id)] = 0
        if not len(self.response_id):
            return np.zeros(len(response_ids), dtype=bool), np.zeros(len(response_ids), np.int16)
        found = self.response_id[position] == response_ids
        return found, self.score[position]


@dataclass
class Context:
    """What stays the same over the chunks of one evaluation: segment members, touchpoints,
    customers read so far, and for a backlog every response's previous NPS.

    ``expected``: how many responses the evaluation will load, when known. The previous NPS
    is read per chunk (the history of the chunk's contacts) while that is cheaper than one
    scan of every NPS answer; once the evaluation is, or has proved to be, large enough,
    from that one scan (kept for the rest of it)."""

    needs_segments: bool
    needs_drop: bool
    expected: int | None = None
    segment_members: dict[int, np.ndarray] = field(default_factory=dict)
    target_members: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    customers: dict[int, tuple[str, float]] = field(default_factory=dict)
    history_read: int = 0  # NPS rows read per chunk so far
    chunks_read: int = 0
    nps_answers: int | None = None
    previous: PreviousNps | None = None

    @classmethod
    def for_nodes(cls, nodes: Iterable[Node], *, expected: int | None = None) -> "Context":
        used = {leaf.field for node in nodes for leaf in leaves(node)}
        context = cls(
            needs_segments=bool(used & {"segment", "target_segment"}),
            needs_drop="nps_drop" in used,
            expected=expected,
        )
        if context.needs_segments:
            targets: set[int] = set()
            for segment in all_segments():
                ids = np.unique(
                    np.fromiter(segment_customers(segment).values_list("pk", flat=True), np.int64)
                )
                context.segment_members[segment.pk] = ids
                if segment.is_target:
                    targets.update(ids.tolist())
            context.target_members = np.array(sorted(targets), dtype=np.int64)
        return context

    def previous_nps(self, contact_ids: list[int]) -> PreviousNps:
        """Previous NPS covering the responses of ``contact_ids`` (see the class)."""
        self.chunks_read += 1
        if self.previous is None and (self.chunks_read > 1 or (self.expected or 0) > CHUNK):
            if self.nps_answers is None:
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT COUNT(*) FROM {Answer._meta.db_table} WHERE kind = 'nps'"
                    )
                    self.nps_answers = cursor.fetchone()[0]
            # Ski rental: scan everything once the evaluation covers a quarter of the
            # answers, or once the per-chunk reads have cost as much as that scan.
            if 4 * (self.expected or 0) >= self.nps_answers or (
                self.history_read >= self.nps_answers
            ):
                self.previous, _rows = PreviousNps.read(None)
        if self.previous is not None:
            return self.previous
        previous, rows = PreviousNps.read(contact_ids)
        self.history_read += rows
        return previous

    def customer_facts(self, customer_ids: set[int]) -> dict[int, tuple[str, float]]:
        """Customer id → (tier, annual value as a float), read once an evaluation."""
        wanted = [pk for pk in customer_ids if pk not in self.customers]
        for part in chunks(wanted):
            for pk, tier, value in Customer.objects.filter(pk__in=part).values_list(
                "pk", "tier", "annual_value"
            ):
                # Decimal → float: amounts compare to the kopeck within 2**53
                self.customers[pk] = (tier, np.nan if value is None else float(value))
        return self.customers


def _id_range(field: str, ids: list[int]) -> dict:
    """A filter selecting at least ``ids``: their range when they are dense (as new responses
    and the responses of a period are), else the list. SQLite reads a range from the index
    in a tenth of the time of a 5,000-item IN (measured in bench/bench_rules.py); the
    callers drop what the range adds."""
    low, high = min(ids), max(ids)
    if high - low < 2 * len(ids):
        return {f"{field}__gte": low, f"{field}__lte": high}
    return {f"{field}__in": ids}


def _id_condition(column: str, ids: list[int]) -> tuple[str, list[int]]:
    """SQL selecting at least ``ids`` in ``column``, as :func:`_id_range`."""
    if "__in" in next(iter(_id_range(column, ids))):
        return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)
    return f"{column} BETWEEN %s AND %s", [min(ids), max(ids)]


def _responses(ids: list[int], since: dt.datetime | None) -> list[tuple]:
    """(id, customer, contact, touchpoint, channel) of the completed customer responses among
    ``ids`` (and others in their range), in order of submission. Through the plain cursor: no
    per-row conversions, and the submission time is not read at all. ``r.state || ''``: with
    a plain ``state =`` SQLite walked the (state, submitted_at, id) index of every completed
    response to save sorting one chunk (0.29 s a chunk of 5,000 at 1 M responses)."""
    response, survey = Response._meta.db_table, Survey._meta.db_table
    condition, params = _id_condition("r.id", ids)
    sql = (
        f"SELECT r.id, r.customer_id, r.contact_id, r.touchpoint_id, r.channel "
        f"FROM {response} r JOIN {survey} s ON s.id = r.survey_id "
        f"WHERE {condition} AND r.state || '' = %s AND s.kind <> %s"
    )
    params += [ResponseState.COMPLETED.value, SurveyKind.PULSE.value]
    if since is not None:
        sql += " AND r.submitted_at >= %s"
        params.append(connection.ops.adapt_datetimefield_value(since))
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY r.submitted_at, r.id", params)
        return cursor.fetchall()


SCORE_KINDS = ("nps", "csat", "ces", "rating")  # answers read as numbers, by their position


def _answers(response_ids: list[int]) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """The scored answers of the responses (and of others in their id range) as an array of
    (response id, kind's position in :data:`SCORE_KINDS` or -1, touchpoint id or 0, score)
    rows, and their comments as (response id, text). Whole numbers through the plain cursor
    straight into NumPy: the ORM's per-row conversions were a third of the load (profiled:
    7 µs a row) and a Python loop over the rows most of the rest. Kinds compared in the
    select list and as ``kind || ''``: a plain ``kind`` filter made SQLite walk the
    (kind, score) index of every answer instead of the answers of these responses."""
    condition, params = _id_condition("response_id", response_ids)
    codes = " ".join(f"WHEN '{kind}' THEN {code}" for code, kind in enumerate(SCORE_KINDS))
    table = Answer._meta.db_table
    scored = (
        f"SELECT response_id, CASE kind {codes} ELSE -1 END, COALESCE(touchpoint_id, 0), score "
        f"FROM {table} WHERE {condition} AND score IS NOT NULL"
    )
    texts = (
        f"SELECT response_id, text FROM {table} "
        f"WHERE {condition} AND kind || '' = 'text' AND text <> ''"
    )
    with connection.cursor() as cursor:
        cursor.execute(scored, params)
        rows = cursor.fetchall()
        cursor.execute(texts, params)
        comments = cursor.fetchall()
    flat = np.fromiter(itertools.chain.from_iterable(rows), np.int64, count=4 * len(rows))
    return flat.reshape(-1, 4), comments


def load_batch(ids: list[int], context: Context, *, since: dt.datetime | None) -> Batch:
    """The completed customer responses among ``ids`` (submitted at ``since`` or later) with
    the facts their conditions read: a handful of queries, whatever the number of responses
    (fewer once the context knows the customers and, for a backlog, the previous NPS)."""
    rows = _responses(ids, since) if ids else []
    n = len(rows)
    response_id = np.array([row[0] for row in rows], np.int64)
    touchpoint_of = [row[3] for row in rows]
    comments = [""] * n
    scored, texts = _answers(response_id.tolist()) if n else (np.empty((0, 4), np.int64), [])
    # Each answer's row in the batch (-1: a response of the id range that is not in it).
    by_id = np.argsort(response_id)
    position = np.minimum(np.searchsorted(response_id[by_id], scored[:, 0]), max(n - 1, 0))
    row = by_id[position] if n else position
    row[response_id[row] != scored[:, 0]] = -1
    kind, touchpoint, score = scored[:, 1], scored[:, 2], scored[:, 3]
    columns = []
    for code in range(3):  # nps, csat, ces: the lowest when a survey asked twice
        mask = (kind == code) & (row >= 0)
        column = np.full(n, MISSING_HIGH, np.int16)
        np.minimum.at(column, row[mask], score[mask])
        column[column == MISSING_HIGH] = MISSING
        columns.append(column)
    nps, csat, ces = columns
    mask = (kind == SCORE_KINDS.index("rating")) & (row >= 0)
    rating_row = row[mask]
    response_touchpoint = np.array([pk or 0 for pk in touchpoint_of], np.int64)
    rating_touchpoint = np.where(
        touchpoint[mask] > 0, touchpoint[mask], response_touchpoint[rating_row]
    )
    rating_score = score[mask].astype(np.int16)
    row_of = dict(zip(response_id.tolist(), range(n), strict=True))
    for response, text in texts:
        index = row_of.get(response)
        if index is not None:
            comments[index] = f"{comments[index]}\n{text}" if comments[index] else text

    customers = context.customer_facts({row[1] for row in rows if row[1] is not None})
    missing = ("", np.nan)
    tier = np.array([customers.get(row[1], missing)[0] for row in rows], dtype=object)
    value = np.array([customers.get(row[1], missing)[1] for row in rows], dtype=np.float64)
    drop = np.full(n, MISSING_DROP, np.int16)
    if context.needs_drop and n:
        contacts = sorted({row[2] for row in rows if row[2] is not None})
        if contacts:
            found, earlier = context.previous_nps(contacts).of(response_id)
            found &= nps != MISSING
            drop[found] = earlier[found] - nps[found]
    table = FactTable(
        nps=nps,
        csat=csat,
        ces=ces,
        rating_row=rating_row,
        rating_touchpoint=rating_touchpoint,
        rating_score=rating_score,
        comments=comments,
        tier=tier,
        annual_value=value,
        customer_id=np.array([row[1] or MISSING for row in rows], np.int64),
        channel=np.array([row[4] for row in rows], dtype=object),
        nps_drop=drop,
        segment_members=context.segment_members,
        target_members=context.target_members,
    )
    return Batch(
        response_id=[row[0] for row in rows],
        customer_id=[row[1] for row in rows],
        contact_id=[row[2] for row in rows],
        touchpoint_id=touchpoint_of,
        table=table,
    )


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# Planning: which matches open a case and which attach -------------------------------------------


class Match(NamedTuple):
    rule_id: int
    key: object  # the version (or the unsaved condition of a preview) that matched
    row: int
    response_id: int
    customer_id: int | None


class Matches(Sequence[Match]):
    """The matches of a batch as columns, in order of submission then rule; a :class:`Match`
    is made only when read (a backlog of 1 M responses has millions of matches that the
    planning alone does not need as objects)."""

    def __init__(self, batch: Batch, keys: list, row: np.ndarray, rule: np.ndarray):
        self.batch, self.keys, self.row, self.rule = batch, keys, row, rule

    def __len__(self) -> int:
        return len(self.row)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(self.select(np.arange(len(self))[index]))
        row, rule = int(self.row[index]), int(self.rule[index])
        rule_id, key = self.keys[rule]
        return Match(rule_id, key, row, self.batch.response_id[row], self.batch.customer_id[row])

    def __iter__(self) -> Iterator[Match]:
        keys, responses, customers = self.keys, self.batch.response_id, self.batch.customer_id
        for row, rule in zip(self.row.tolist(), self.rule.tolist(), strict=True):
            yield Match(keys[rule][0], keys[rule][1], row, responses[row], customers[row])

    def select(self, which: np.ndarray) -> "Matches":
        """The matches at ``which`` (a mask or positions)."""
        return Matches(self.batch, self.keys, self.row[which], self.rule[which])

    @property
    def rule_id(self) -> np.ndarray:
        return np.array([rule_id for rule_id, _key in self.keys], np.int64)[self.rule]

    @property
    def response_id(self) -> np.ndarray:
        return np.asarray(self.batch.response_id, np.int64)[self.row]

    @property
    def customer_id(self) -> np.ndarray:
        """MISSING without a customer."""
        return self.batch.table.customer_id[self.row]


def matches_of(batch: Batch, nodes: dict) -> Matches:
    """Every (rule, response) pair of the batch whose condition holds, by submission (then
    rule)."""
    keys = list(nodes)
    rows, rules = [], []
    for index, node in enumerate(nodes.values()):
        hits = np.flatnonzero(evaluate_table(node, batch.table))
        rows.append(hits)
        rules.append(np.full(len(hits), index))
    if not rows:
        return Matches(batch, keys, np.empty(0, np.int64), np.empty(0, np.int64))
    row, rule = np.concatenate(rows), np.concatenate(rules)
    rule_ids = np.array([rule_id for rule_id, _key in keys], np.int64)
    order = np.lexsort((rule_ids[rule], row))
    return Matches(batch, keys, row[order], rule[order])


@dataclass
class Plan:
    """What evaluating a batch does: cases to open (one per match) and matches that attach
    to a customer's open case, given the customers with an open rule case and the pairs
    already triggered."""

    open: Sequence[Match] = field(default_factory=list)
    attach: Sequence[Match] = field(default_factory=list)


def case_key(customer_id: int | None, response_id: int) -> int:
    """What one open rule case stands for: the customer, or, for an answer without one, the
    response itself (as its negative id), so that two rules matching one anonymous answer
    make one case, not two."""
    return customer_id if customer_id is not None else -response_id


def plan(matches: Sequence[Match], *, open_keys: set[int], triggered: set[tuple[int, int]]) -> Plan:
    """Decide for each match in order: skip the pairs already triggered; the first match of a
    :func:`case_key` without an open rule case opens one, the key's later ones attach to it
    (updating ``open_keys`` as cases open)."""
    if isinstance(matches, Matches):
        return _plan_columns(matches, open_keys=open_keys, triggered=triggered)
    result = Plan(open=[], attach=[])
    for match in matches:
        if (match.rule_id, match.response_id) in triggered:
            continue
        key = case_key(match.customer_id, match.response_id)
        if key in open_keys:
            result.attach.append(match)
        else:
            result.open.append(match)
            open_keys.add(key)
    return result


def _plan_columns(
    matches: Matches, *, open_keys: set[int], triggered: set[tuple[int, int]]
) -> Plan:
    """:func:`plan` over columns: the same decisions without a Python step per match."""
    keep = np.ones(len(matches), dtype=bool)
    if triggered:
        pairs = np.array([(rule << 32) | response for rule, response in triggered], np.int64)
        keep = ~np.isin((matches.rule_id << 32) | matches.response_id, pairs)
    customer = matches.customer_id
    key = np.where(customer != MISSING, customer, -matches.response_id)
    known = np.fromiter(open_keys, np.int64, count=len(open_keys))
    new = np.flatnonzero(keep & ~np.isin(key, known))
    first = np.zeros(len(matches), dtype=bool)
    first[new[np.unique(key[new], return_index=True)[1]]] = True
    open_keys.update(key[first].tolist())
    return Plan(open=matches.select(keep & first), attach=matches.select(keep & ~first))


def open_rule_case_customers(customer_ids: Iterable[int]) -> dict[int, int]:
    """Customer id → their open rule case's id."""
    wanted = sorted({c for c in customer_ids if c is not None})
    found: dict[int, int] = {}
    # Through the plain cursor in parts: the ORM spent 70 ms preparing a 5,000-item IN.
    for part in chunks(wanted):
        sql = (
            f"SELECT customer_id, id FROM {Case._meta.db_table} WHERE origin = %s "
            f"AND state IN ({', '.join(['%s'] * len(OPEN_STATES))}) "
            f"AND customer_id IN ({', '.join(['%s'] * len(part))})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [Origin.RULE.value, *(s.value for s in OPEN_STATES), *part])
            found.update(cursor.fetchall())
    return found


def open_rule_cases_of(batch: Batch) -> dict[int, int]:
    """:func:`case_key` → its open rule case's id, for the batch's customers and its answers
    without a customer."""
    found = open_rule_case_customers(set(batch.customer_id))
    anonymous = [r for r, c in zip(batch.response_id, batch.customer_id, strict=True) if c is None]
    if anonymous:
        found |= {
            -response: case
            for response, case in CaseTrigger.objects.filter(
                response_id__in=anonymous,
                case__origin=Origin.RULE,
                case__state__in=OPEN_STATES,
                case__customer__isnull=True,
            ).values_list("response_id", "case_id")
        }
    return found


def triggered_pairs(batch: Batch, rule_ids: Iterable[int]) -> set[tuple[int, int]]:
    return set(
        CaseTrigger.objects.filter(
            rule_id__in=list(rule_ids), **_id_range("response_id", batch.response_id)
        ).values_list("rule_id", "response_id")
    )


# Routing ------------------------------------------------------------------------------------


class Router:
    """Who owns a new case: round-robin inside a team (the active non-viewer member least
    recently given a case first, ties by id), kept in memory over one evaluation."""

    def __init__(self):
        self._turns: dict[int, deque] = {}
        self._touchpoints = {
            pk: (team, names)
            for pk, team, *names in Touchpoint.objects.values_list(
                "pk", "team_id", "name_ru", "name_en"
            )
        }

    def touchpoint_team(self, touchpoint_id: int | None) -> int | None:
        return self._touchpoints.get(touchpoint_id, (None, ""))[0]

    def touchpoint_names(self, touchpoint_id: int | None) -> tuple[str, str]:
        """In Russian and in English (the Russian where there is no English one)."""
        ru, en = self._touchpoints.get(touchpoint_id, (None, ("", "")))[1]
        return ru, en or ru

    def next_member(self, team_id: int) -> Employee | None:
        if team_id not in self._turns:
            members = (
                Employee.objects.filter(team_id=team_id, user__is_active=True)
                .exclude(role=Role.VIEWER)
                # The latest case each was given: ids grow as cases open, and unlike the
                # opening time they tell apart cases opened in the same evaluation.
                .annotate(last_case=Max("cases__pk"))
                .order_by(F("last_case").asc(nulls_first=True), "pk")
                .select_related("user")
            )
            self._turns[team_id] = deque(members)
        turns = self._turns[team_id]
        if not turns:
            return None
        member = turns.popleft()
        turns.append(member)
        return member


def _route(version: AlertRuleVersion, batch: Batch, row: int, owners: dict, router: Router):
    """(owner, team id, the notes (:class:`RoutingNote`) where the rule's choice could not be
    followed)."""
    touchpoint = batch.lowest_rated_touchpoint(row) or batch.touchpoint_id[row]
    touchpoint_team = router.touchpoint_team(touchpoint)
    notes = []
    if version.owner_kind == OwnerKind.CUSTOMER_OWNER:
        owner = owners.get(batch.customer_id[row])
        if owner is not None and owner.user.is_active:
            return owner, owner.team_id, []
        team = touchpoint_team or version.team_id
        if batch.customer_id[row] is None:
            why = RoutingNote.NO_CUSTOMER_TOUCHPOINT_TEAM, RoutingNote.NO_CUSTOMER_RULE_TEAM
        else:
            why = RoutingNote.NO_OWNER_TOUCHPOINT_TEAM, RoutingNote.NO_OWNER_RULE_TEAM
        notes.append(why[0] if touchpoint_team else why[1])
    elif version.owner_kind == OwnerKind.TOUCHPOINT_TEAM:
        team = touchpoint_team or version.team_id
        if not touchpoint_team:
            notes.append(RoutingNote.NO_TOUCHPOINT_TEAM)
    else:
        team = version.team_id
    if team is None:
        return None, None, [RoutingNote.NO_TEAM]
    member = router.next_member(team)
    if member is None:
        notes.append(RoutingNote.NO_MEMBER)
    return member, team, notes


def _titles(batch: Batch, row: int, customer_name: str, router: Router, rule) -> tuple[str, str]:
    """Why the case exists at a glance, in Russian and in English, e.g. «NPS 3 · Счёт · ООО
    Альфа» and «NPS 3 · Invoice · ООО Альфа»; the rule's name when there is nothing else."""
    table = batch.table
    score = ""
    for label, column in (("NPS", table.nps), ("CSAT", table.csat), ("CES", table.ces)):
        if column[row] != MISSING:
            score = f"{label} {column[row]}"
            break
    touchpoint = batch.lowest_rated_touchpoint(row) or batch.touchpoint_id[row]
    names = router.touchpoint_names(touchpoint) if touchpoint else ("", "")
    return tuple(
        " · ".join(part for part in (score, name, customer_name) if part) or fallback
        for name, fallback in zip(names, (rule.name_ru, rule.name_en or rule.name_ru), strict=True)
    )


# Evaluating -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What an evaluation did: matched (rule × response pairs newly triggered), opened cases,
    attached triggers."""

    matched: int = 0
    opened: int = 0
    attached: int = 0

    def add(self, other: "Outcome") -> None:
        self.matched += other.matched
        self.opened += other.opened
        self.attached += other.attached


def current_versions() -> list[AlertRuleVersion]:
    """The latest version of every active rule."""
    latest = (
        AlertRuleVersion.objects.filter(rule__is_active=True)
        .values("rule_id")
        .annotate(top=Max("version"))
        .values_list("rule_id", "top")
    )
    wanted = dict(latest)
    versions = AlertRuleVersion.objects.filter(rule_id__in=wanted).select_related("rule")
    return [v for v in versions if wanted[v.rule_id] == v.version]


def parsed(versions: Iterable[AlertRuleVersion]) -> dict:
    """(rule id, version) → condition tree; a stored condition that no longer parses (its
    segment deleted, say) is skipped and logged rather than stopping every other rule."""
    nodes = {}
    for version in versions:
        try:
            nodes[(version.rule_id, version)] = parse_condition(version.condition)
        except ConditionError as error:
            log.warning("rule %s v%s skipped: %s", version.rule_id, version.version, error)
    return nodes


def evaluate(
    response_ids: Iterable[int],
    rule_versions: Iterable[AlertRuleVersion] | None = None,
    *,
    now: dt.datetime,
    since: dt.datetime | None = None,
) -> Outcome:
    """Evaluate ``rule_versions`` (default: the current version of every active rule) over
    the responses ``response_ids`` submitted since ``since`` (default: the last
    :data:`LIVE_DAYS` days before ``now``), opening or attaching cases. Safe to run twice and
    beside another worker on the same ids."""
    versions = current_versions() if rule_versions is None else list(rule_versions)
    nodes = parsed(versions)
    outcome = Outcome()
    if not nodes:
        return outcome
    since = now - dt.timedelta(days=LIVE_DAYS) if since is None else since
    ids = list(response_ids)
    context = Context.for_nodes(nodes.values(), expected=len(ids))
    router = Router()
    with calendars_kept():  # every case opened reads its owner's calendar twice
        for chunk in chunks(ids):
            batch = load_batch(chunk, context, since=since)
            if len(batch):
                outcome.add(_apply(batch, nodes, router, now=now))
    return outcome


def _apply(batch: Batch, nodes: dict, router: Router, *, now: dt.datetime) -> Outcome:
    matches = matches_of(batch, nodes)
    if not matches:
        return Outcome()
    # The triggers first, then the open cases: a worker's case and its trigger commit together,
    # so a trigger seen here has its case seen below (else a later rule's match of that answer
    # would open a second case for an answer without a customer).
    triggered = triggered_pairs(batch, np.unique(matches.rule_id).tolist())
    open_cases = open_rule_cases_of(batch)
    decided = plan(matches, open_keys=set(open_cases), triggered=triggered)
    customers = {
        pk: (name, owner)
        for pk, name, owner in Customer.objects.filter(
            pk__in={m.customer_id for m in decided.open}
        ).values_list("pk", "name", "owner_id")
    }
    owners = Employee.objects.select_related("user").in_bulk(
        {owner for _name, owner in customers.values() if owner}
    )
    owner_of = {pk: owners.get(owner) for pk, (_name, owner) in customers.items()}
    outcome = Outcome()
    attaching: list[tuple[int, Match]] = []
    new = [_new_case(batch, match, customers, owner_of, router) for match in decided.open]
    for match, case_id in zip(decided.open, _open_all(new, now=now), strict=True):
        key = case_key(match.customer_id, match.response_id)
        if case_id is not None:
            outcome.opened += 1
            open_cases[key] = case_id
            continue
        # Another worker opened the case first: join it.
        case_id = open_cases[key] = _case_of(match.customer_id, match.response_id)
        if case_id is not None:
            attaching.append((case_id, match))
    for match in decided.attach:
        # None: the case could be neither opened nor found (closed meanwhile by another
        # worker); the next evaluation of these ids opens it.
        case_id = open_cases.get(case_key(match.customer_id, match.response_id))
        if case_id is not None:
            attaching.append((case_id, match))
    outcome.attached = _attach_all(attaching, now=now)
    outcome.matched = outcome.opened + outcome.attached
    return outcome


def _write_slices(items: Sequence[T]) -> Iterator[list[T]]:
    """``items`` :data:`WRITE_SLICE` at a time, each to be written in its own transaction,
    with a turn for the API's waiting inserts between two."""
    for number, part in enumerate(chunks(items, WRITE_SLICE)):
        if number:
            let_waiting_writers_in(connection)
        yield part


def _attach_all(pairs: list[tuple[int, Match]], *, now: dt.datetime) -> int:
    """Add triggers to open cases: the same rows as :func:`services.attach` (a trigger, an
    event in the case's history, the case's change time), :data:`WRITE_SLICE` at a time in
    one transaction of three statements instead of three per trigger."""
    seen = set(
        CaseTrigger.objects.filter(case_id__in={case for case, _match in pairs}).values_list(
            "case_id", "response_id"
        )
    )
    wanted = []
    for case_id, match in pairs:
        # A response already on the case (through another rule) is not added twice.
        if (case_id, match.response_id) not in seen:
            seen.add((case_id, match.response_id))
            wanted.append((case_id, match))
    return sum(_attach_slice(part, now=now) for part in _write_slices(wanted))


def _attach_slice(wanted: list[tuple[int, Match]], *, now: dt.datetime) -> int:
    """The statements are built before the transaction, which holds SQLite's write lock for
    their execution alone (the ORM's compiling took most of each hold). When another worker
    got there first and a unique constraint refuses the slice, one by one through attach."""
    statements = [
        rows.inserting(
            [
                CaseTrigger(
                    case_id=case_id,
                    response_id=match.response_id,
                    rule_id=match.rule_id,
                    rule_version=match.key,
                    created_at=now,
                )
                for case_id, match in wanted
            ]
        ),
        rows.inserting(
            [
                CaseEvent(
                    case_id=case_id,
                    at=now,
                    by=None,
                    kind=EventKind.TRIGGER,
                    data={"response": match.response_id, "rule_version": match.key.pk},
                )
                for case_id, match in wanted
            ]
        ),
        rows.updating(
            Case.objects.filter(pk__in={case_id for case_id, _m in wanted}), updated_at=now
        ),
    ]
    try:
        with transaction.atomic():
            for statement in statements:
                rows.run(statement)
    except IntegrityError:
        return sum(
            services.attach(
                Case(pk=case_id), Response(pk=match.response_id), now=now, rule_version=match.key
            )
            for case_id, match in wanted
        )
    return len(wanted)


def _case_of(customer_id: int | None, response_id: int) -> int | None:
    """The open rule case of the customer, or of the answer when it has no customer."""
    if customer_id is None:
        return (
            CaseTrigger.objects.filter(
                response_id=response_id, case__origin=Origin.RULE, case__state__in=OPEN_STATES
            )
            .values_list("case_id", flat=True)
            .first()
        )
    case = services.open_rule_case_of(customer_id)
    return case.pk if case is not None else None


def _new_case(batch, match, customers, owner_of, router) -> services.NewCase:
    version = match.key
    name = customers.get(match.customer_id, ("", None))[0]
    owner, team_id, notes = _route(version, batch, match.row, owner_of, router)
    touchpoints = {batch.lowest_rated_touchpoint(match.row), batch.touchpoint_id[match.row]}
    title, title_en = _titles(batch, match.row, name, router, version.rule)
    contact_id = batch.contact_id[match.row]
    return services.NewCase(
        origin=Origin.RULE,
        title=title,
        title_en=title_en,
        customer=Customer(pk=match.customer_id) if match.customer_id else None,
        contact=Contact(pk=contact_id) if contact_id else None,
        owner=owner,
        team=Team(pk=team_id) if team_id else None,
        priority=version.priority,
        sla_policy=version.sla_policy,
        rule_version=version,
        touchpoints=[pk for pk in touchpoints if pk],
        responses=[Response(pk=match.response_id)],
        routing=notes,
    )


def _open_all(new: list[services.NewCase], *, now: dt.datetime) -> list[int | None]:
    """Open the cases, :data:`WRITE_SLICE` at a time; None for a case another worker won (the
    database refused a second open rule case for the customer, or this rule × response is
    already triggered), found one by one once its slice's insert is refused."""
    opened: list[int | None] = []
    for part in _write_slices(new):
        try:
            opened += [case.pk for case in services.open_cases(part, now=now)]
        except IntegrityError:
            opened += [_open_one(spec, now=now) for spec in part]
    return opened


def _open_one(spec: services.NewCase, *, now: dt.datetime) -> int | None:
    try:
        return services.open_cases([spec], now=now)[0].pk
    except IntegrityError:
        return None


def recent_response_ids(since: dt.datetime, until: dt.datetime) -> Iterator[int]:
    """Ids of the completed customer responses submitted from ``since`` to ``until``."""
    return (
        Response.objects.filter(
            state=ResponseState.COMPLETED, submitted_at__gte=since, submitted_at__lte=until
        )
        .exclude(survey__kind=SurveyKind.PULSE)
        .order_by("pk")
        .values_list("pk", flat=True)
        .iterator(chunk_size=CHUNK)
    )


def on_responses_pending(sender, response_ids, now: dt.datetime | None = None, **kwargs):
    """Receiver of :data:`cxloop.surveys.signals.responses_pending`: the live rules over the
    newly recorded responses, in chunks."""
    from django.utils import timezone

    outcome = evaluate(response_ids, now=now or timezone.now())
    if outcome.matched:
        log.info(
            "rules: %s matched, %s cases opened, %s attached",
            outcome.matched,
            outcome.opened,
            outcome.attached,
        )
