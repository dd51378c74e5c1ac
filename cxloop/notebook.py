"""The fact store for an analyst: open it read-only in a notebook and get the pages' numbers.

::

    import cxloop.notebook
    nb = cxloop.notebook.open()                 # $CXLOOP_DATA_DIR, or data_dir="…"
    nb.tables.answers                           # Ibis tables over the store's Parquet files
    nb.frame("answers", since=dt.date(2026, 1, 1), engine="polars")
    nb.journey_map()                            # the journey map page's result, same defaults
    nb.scores("nps", by=("touchpoint", "month"))  # NPS by touchpoint and month, as a frame

Nothing here computes a score: the queries and their definitions are those of the pages
(:mod:`cxloop.insights` — the scope, the default period, the target segment, the journey map,
the comparisons), and every figure comes from :mod:`cxloop.analytics` through them (the NPS
cut-offs, ``MIN_N`` and the intervals are defined once, there). The store is only read: an
in-process DuckDB over the files the manifest names, never the store's own lock or writer,
and results are not put in Django's cache. The records the pages name things with (journeys,
segments, teams) are read from the database through the apps' ``queries``.

It works outside a web request: :func:`open` sets Django up with cxloop's settings when the
process has not (``CXLOOP_DATA_DIR`` and the other variables are read then, as by the
``cxloop`` command). docs/notebook.md has the walk-through and ``docs/notebook-example.ipynb``
an example.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT", "ENGINES", "Notebook", "open"]


class _Default:
    """The page's default for a filter (see :class:`Notebook`)."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()
ENGINES = ("pandas", "polars", "arrow")
SCORE_KINDS = ("nps", "csat", "ces", "rating")
# What a score frame may be grouped by: the counted answers' keys.
SCORE_KEYS = {"touchpoint": "touchpoint_id", "month": "month", "team": "team_id"}
# Tables that can be narrowed to a period, segment and team like the pages' scans.
SCOPED_TABLES = ("responses", "answers", "comments", "answer_sample")


def open(  # noqa: A001  (cxloop.notebook.open, as files and stores are opened)
    data_dir: str | Path | None = None, *, facts_dir: str | Path | None = None
) -> Notebook:
    """The fact store of ``data_dir`` (default ``CXLOOP_DATA_DIR``), read-only.

    Parameters
    ----------
    data_dir : path, optional
        The data directory whose database and fact store to read. Only where this process
        has not set Django up yet (it then does, with ``cxloop.settings``); where it has, it
        must be the directory the settings name, or be left out.
    facts_dir : path, optional
        Another fact store than the settings' ``FACTS_DIR`` (a copy, say).

    Raises
    ------
    ValueError
        ``data_dir`` differs from the one Django was set up with, or the store is empty.
    """
    _setup(data_dir)
    from django.conf import settings

    if data_dir is not None and Path(data_dir).resolve() != Path(settings.DATA_DIR).resolve():
        raise ValueError(
            f"data_dir: Django is already set up with the data directory {settings.DATA_DIR}; "
            "open that one (leave data_dir out), or start a new Python process"
        )
    if facts_dir is None and settings.FACTS_URI:  # the published store (docs/scale.md)
        from cxloop.facts import published

        return Notebook(published.location())
    return Notebook(Path(facts_dir) if facts_dir is not None else Path(settings.FACTS_DIR))


def _setup(data_dir: str | Path | None) -> None:
    """``django.setup()`` with cxloop's settings, unless the process did it already."""
    from django.apps import apps

    if apps.ready:
        return
    if data_dir is not None:
        os.environ["CXLOOP_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        # A Jupyter kernel runs each cell inside its event loop, where Django refuses the ORM's
        # synchronous calls; a notebook's cells are run one at a time, so they are safe.
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    import django

    django.setup()


@dataclass(frozen=True)
class Notebook:
    """A read-only view of one fact store with the pages' definitions.

    The filters of the methods are those of the analytical pages: ``since`` and ``until``
    (dates, inclusive, UTC days), ``segment`` (a segment id; ``"all"`` or None for every
    customer) and ``team`` (a team id: it and the teams below it; None every team). Left at
    :data:`DEFAULT` they take the page's default: the last twelve whole months
    (:func:`cxloop.insights.pages.default_since`), and on the journey map the target segment.
    The notebook sees the whole organisation, as an administrator does.
    """

    directory: Path  # or the published store's Location

    def __post_init__(self) -> None:
        from cxloop.insights.store import FactStore

        # A store of its own (not the server's per-thread one): the notebook's queries and a
        # page's never share a DuckDB connection.
        object.__setattr__(self, "_store", FactStore(self.directory))

    # -- the tables ------------------------------------------------------------------------

    @property
    def tables(self):
        """The store's tables as Ibis tables (:class:`cxloop.insights.store.FactTables`), of
        the manifest's current version; docs/facts.md describes every column."""
        tables = self._store.tables()
        if tables is None:
            raise ValueError(
                f"the fact store at {self.directory} is empty: build it with "
                "`cxloop facts rebuild` (or `cxloop demo`)"
            )
        return tables

    @property
    def version(self) -> str:
        """The store's data version: it changes on every write."""
        return self.tables.manifest.version

    @property
    def months(self) -> tuple[str, ...]:
        """The months (``"YYYY-MM"``, UTC) the store holds."""
        return self.tables.months

    def table(self, name: str, **filters):
        """The Ibis table ``name``; with filters (``since``, ``until``, ``segment``, ``team``:
        None by default, which leaves that filter out) narrowed as the pages' scans narrow it
        (:meth:`cxloop.insights.store.Scope.filter`), for the tables in :data:`SCOPED_TABLES`."""
        tables = self.tables
        table = getattr(tables, name, None) if not name.startswith("_") else None
        if name in ("manifest", "months") or table is None:
            raise ValueError(f"name: the fact store has no table {name!r}")
        filters = {key: filters.get(key) for key in ("since", "until", "segment", "team")}
        if not any(value is not None for value in filters.values()):
            return table
        if name not in SCOPED_TABLES:
            raise ValueError(
                f"{name} cannot be narrowed to a period, segment or team; "
                f"these can: {', '.join(SCOPED_TABLES)}"
            )
        return self.scope(**filters).filter(table, tables.segments)

    def frame(self, name: str, *, engine: str = "pandas", **filters):
        """The table ``name`` (with :meth:`table`'s filters) as a pandas or Polars data frame,
        or a PyArrow table (``engine="arrow"``). pandas and Polars are not dependencies of
        cxloop: install the one you use (ImportError naming it otherwise)."""
        return _to_frame(self.table(name, **filters).to_pyarrow(), engine)

    # -- what the pages name things with ----------------------------------------------------

    def journeys(self) -> dict[int, str]:
        """The active journeys by id, with their names, in the pages' order (the first is the
        journey map's default)."""
        from cxloop.journeys.queries import active_journeys

        return {journey.pk: journey.name for journey in active_journeys()}

    def touchpoints(self) -> dict[int, str]:
        """The touchpoints of the active journeys by id, with their names, in map order."""
        from cxloop.journeys.queries import journey_touchpoints

        return {tp.pk: tp.name for tp in journey_touchpoints()}

    def segments(self) -> dict[int, str]:
        """Every segment by id, with its name."""
        from cxloop.customers.queries import all_segments

        return {segment.pk: segment.label for segment in all_segments().order_by("pk")}

    @property
    def target_segment(self) -> int | None:
        """The target segment's id (the journey map's default segment); None if none."""
        from cxloop.insights.pages import target_segment_id

        return target_segment_id()

    def teams(self) -> dict[int, str]:
        """The teams of the stored responses and customers by id, with their paths
        ("Firm › Sales")."""
        from cxloop.people.queries import team_paths

        tables = self.tables
        ids = set()
        for table in (tables.customers, tables.responses):
            column = table.select("team_id").distinct().to_pyarrow().column(0)
            ids.update(int(t) for t in column.to_pylist() if t is not None)
        return dict(sorted(team_paths(sorted(ids)).items(), key=lambda item: item[1]))

    def default_period(self, today: dt.date | None = None) -> tuple[dt.date, None]:
        """The pages' default period (since, until): the last twelve whole months, open."""
        from cxloop.insights.pages import default_since

        return default_since(today or dt.date.today()), None

    def scope(self, *, since=DEFAULT, until=None, segment=None, team=None, today=None):
        """The :class:`~cxloop.insights.store.Scope` the pages would use for these filters
        (``since`` :data:`DEFAULT`: the default period's start)."""
        from cxloop.insights.pages import default_since, viewer_scope

        if since is DEFAULT:
            since = default_since(today or dt.date.today())
        return viewer_scope(
            None,
            since=_day("since", since),
            until=_day("until", until),
            segment_id=self._segment(segment),
            team_id=self._team(team),
        )

    # -- the pages' figures -----------------------------------------------------------------

    def journey_map(self, journey=None, *, since=DEFAULT, until=None, segment=DEFAULT, team=None):
        """The journey map page's result (:class:`cxloop.insights.journey.JourneyMap`) of
        ``journey`` (an id; default the first active journey) for the filters, with the page's
        defaults (the last twelve months, the target segment): cards with each touchpoint's
        score, top box, NPS, importance, opportunity, trend and signal, the stages' curve, the
        opportunities, what changed. ``to_dict()`` gives it as plain data."""
        from cxloop.insights.pages import journey_map_query
        from cxloop.journeys.queries import active_journeys

        journeys = list(active_journeys())
        chosen = journeys[0] if journeys and journey is None else None
        chosen = chosen or next((j for j in journeys if j.pk == journey), None)
        if chosen is None:
            raise ValueError(f"journey: {journey!r} is not an active journey")
        if segment is DEFAULT:
            segment = self.target_segment
        scope = self.scope(since=since, until=until, segment=segment, team=team)
        return journey_map_query(chosen, scope).calculate(self.tables)

    def compare(
        self,
        by: str = "segment",
        metric: str = "nps",
        *,
        grain: str = "month",
        touchpoint: int | None = None,
        since=DEFAULT,
        until=None,
        segment=None,
        team=None,
    ):
        """The comparison page's result (:class:`cxloop.insights.dashboards.ComparisonResult`):
        segments, teams or periods (``by``) on ``metric`` ("nps", "csat", "ces", "rating" — of
        ``touchpoint``, default the journey's first), each against the rest or the period
        before, Benjamini–Hochberg over the family."""
        from cxloop.insights.pages import comparison_query

        scope = self.scope(since=since, until=until, segment=segment, team=team)
        query = comparison_query(scope, by=by, metric=metric, grain=grain, touchpoint_id=touchpoint)
        return query.calculate(self.tables)

    def scores(
        self,
        kind: str = "nps",
        *,
        by: tuple[str, ...] = ("touchpoint", "month"),
        engine: str = "pandas",
        since=DEFAULT,
        until=None,
        segment=None,
        team=None,
    ):
        """The figure of every ``kind`` answer ("nps": NPS −100..100; "csat": per cent of 4s
        and 5s; "ces", "rating": the mean) by ``by`` (any of "touchpoint", "month", "team"), as
        a frame: the keys, ``n``, ``value``, ``low``, ``high`` (95 %) and ``low_n`` (fewer than
        :data:`cxloop.analytics.MIN_N` answers, which the pages show with a warning).

        Counted as the pages count answers (:meth:`cxloop.insights.store.Scope.counted`: every
        answer of the kind, the store's pre-counted months), each figure by the estimator the
        pages use (:class:`cxloop.insights.dashboards._scores.Scores`): a touchpoint's NPS here
        is the journey map card's.
        """
        import pyarrow as pa

        from cxloop.insights.dashboards import MIN_N
        from cxloop.insights.dashboards._scores import Scores

        if kind not in SCORE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(SCORE_KINDS)}; got {kind!r}")
        by = (by,) if isinstance(by, str) else tuple(by)
        unknown = [key for key in by if key not in SCORE_KEYS]
        if unknown or len(set(by)) != len(by):
            raise ValueError(f"by: choose among {', '.join(SCORE_KEYS)}; got {by!r}")
        keys = [SCORE_KEYS[key] for key in by]
        scope = self.scope(since=since, until=until, segment=segment, team=team)
        rows: list[dict] = []
        if not scope.empty:
            counted = scope.counted(self.tables, by_team="team" in by)
            counted = counted.filter(counted.kind == kind)
            grouped = counted.group_by([*keys, "score"]).aggregate(n=counted.n.sum())
            rows = grouped.to_pyarrow().to_pylist()
        groups: dict[tuple, tuple[list[int], list[int]]] = {}
        for row in rows:
            scores, counts = groups.setdefault(tuple(row[k] for k in keys), ([], []))
            scores.append(row["score"])
            counts.append(row["n"])
        out: dict[str, list] = {key: [] for key in [*keys, "n", "value", "low", "high", "low_n"]}
        for group in sorted(groups, key=lambda g: tuple((v is None, v) for v in g)):
            figures = Scores.from_pairs(kind, *groups[group])
            estimate = figures.estimate(kind)
            for key, value in zip(keys, group, strict=True):
                out[key].append(value)
            out["n"].append(figures.n)
            out["value"].append(None if estimate is None else estimate.value)
            out["low"].append(None if estimate is None else estimate.low)
            out["high"].append(None if estimate is None else estimate.high)
            out["low_n"].append(figures.n < MIN_N)
        types = {"touchpoint_id": pa.int32(), "team_id": pa.int32(), "month": pa.string()}
        schema = pa.schema(
            [(key, types[key]) for key in keys]
            + [
                ("n", pa.int64()),
                ("value", pa.float64()),
                ("low", pa.float64()),
                ("high", pa.float64()),
                ("low_n", pa.bool_()),
            ]
        )
        return _to_frame(pa.table(out, schema=schema), engine)

    def nps(self, **options):
        """NPS by touchpoint and month (:meth:`scores` of ``"nps"``; the same options)."""
        return self.scores("nps", **options)

    # -- parameters ---------------------------------------------------------------------------

    def _segment(self, segment) -> int | None:
        if segment is None or segment == "all":
            return None
        if isinstance(segment, bool) or not isinstance(segment, int):
            raise ValueError(f"segment: expected a segment id or 'all', got {segment!r}")
        if segment not in self.segments():
            raise ValueError(f"segment: no segment has id {segment}")
        return segment

    def _team(self, team) -> int | None:
        from cxloop.people.queries import teams_named

        if team is None:
            return None
        if isinstance(team, bool) or not isinstance(team, int):
            raise ValueError(f"team: expected a team id, got {team!r}")
        if not teams_named([team]).exists():
            raise ValueError(f"team: no team has id {team}")
        return team


def _day(name: str, value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{name}: expected a date (YYYY-MM-DD), got {value!r}") from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValueError(f"{name}: expected a date (YYYY-MM-DD), got {value!r}")
    return value


def _to_frame(table, engine: str):
    """A PyArrow table as the ``engine``'s frame."""
    if engine == "arrow":
        return table
    if engine == "pandas":
        _need("pandas")
        return table.to_pandas()
    if engine == "polars":
        polars = _need("polars")
        return polars.from_arrow(table)
    raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")


def _need(package: str):
    import importlib

    try:
        return importlib.import_module(package)
    except ImportError:
        raise ImportError(
            f"engine={package!r} needs {package}, which cxloop does not install: "
            f"pip install {package} (or use engine='arrow')"
        ) from None
