"""Running a query: the reads it needs, their true rows and totals, and the facts behind them.

A short pipeline, as in Plausible's query runner: plan the reads (`planner`), execute them
over the rollups (`sql`), merge and derive, add the comparison period as its own step. The
answer is a `RawAnswer` of true counts; `creatorlens.privacy.release` alone decides what of
it an audience may see.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from creatorlens.query.followers import followers_total, needs_followers
from creatorlens.query.metrics import DIMENSIONS, METRICS, PERSON_METRICS, first_days
from creatorlens.query.model import Period, Query, QueryError
from creatorlens.query.planner import execute, prefetch
from creatorlens.query.raw import PersonFacts, RawAnswer, RawPeriod
from creatorlens.query.sql import (
    _properties_read,
    _typed,
    filter_clauses,
    involves_person,
    totals_query,
)
from creatorlens.store.ages import MINOR_BUCKET
from creatorlens.store.database import Session

T = TypeVar("T")

ADDITIVE_AUDIENCE = tuple(m for m in PERSON_METRICS if m != "reach")


@dataclass(frozen=True)
class Context:
    """What a run needs besides the query: the store session and the creator's time zone."""

    con: Session
    timezone: str
    # Figures several queries of one dashboard need (e.g. the follower count at the end).
    memo: dict = field(default_factory=dict, compare=False)

    def once(self, key: tuple, compute: Callable[[], T]) -> T:
        """`compute()`, kept under `key` for the rest of the context; computed once even
        when two dashboard sections ask for it at the same time."""
        with self.memo.setdefault(("lock",) + key, threading.Lock()):
            if key not in self.memo:
                self.memo[key] = compute()
        return self.memo[key]


def run_raw(ctx: Context, query: Query) -> RawAnswer:
    """The query's true answer for its period (and the previous one when it compares)."""
    check_person_query(query)
    prefetch(ctx, [query])
    periods = [_raw_period(ctx, query, period) for period in query.periods]
    return RawAnswer(query, ctx.timezone, periods[0], periods[1] if query.compare else None)


def check_person_query(query: Query) -> None:
    """A breakdown by a person's attribute takes that one dimension, and only the measures
    the release stage can protect cell by cell."""
    if not involves_person(query):
        return
    person_dims = [d for d in query.dimensions if DIMENSIONS[d].person]
    if len(person_dims) > 1 or (person_dims and len(query.dimensions) > 1):
        raise QueryError(
            "dimensions", "a breakdown by a person's attribute takes that one dimension only"
        )
    unsupported = [m for m in query.metrics if m not in PERSON_METRICS]
    if unsupported:
        raise QueryError(
            "metrics",
            f"{', '.join(unsupported)} cannot be shown by a person's attribute "
            f"(allowed: {', '.join(PERSON_METRICS)})",
        )


def _raw_period(ctx: Context, query: Query, period: Period) -> RawPeriod:
    start, end = period.start, period.end
    followers = followers_total(ctx, query.creator_id, end) if needs_followers(query) else None
    if involves_person(query):
        measures = [m for m in query.metrics if m in ADDITIVE_AUDIENCE]
        facts = person_facts(ctx, query, start, end, measures)
        if any(DIMENSIONS[d].person for d in query.dimensions):
            read = execute(ctx, query, start, end)
            return RawPeriod(period, read.rows, None, read.people, facts, followers)
        read = execute(ctx, totals_query(query), start, end)
        return RawPeriod(period, [], _first(read.rows, query), {}, facts, followers)
    rows = execute(ctx, query, start, end).rows if query.dimensions else []
    totals = None
    if query.totals or not query.dimensions:
        totals = _first(execute(ctx, totals_query(query), start, end).rows, query)
    return RawPeriod(period, rows, totals, followers_total=followers)


def _first(rows: list[dict], query: Query) -> dict:
    return rows[0] if rows else {m: 0 for m in query.metrics}


def person_facts(
    ctx: Context, query: Query, start: date, end: date, measures: list[str]
) -> PersonFacts:
    """One read of everything a question by a person's attribute is checked on.

    Breakdowns of one period by several attributes share it, so it is read once per context.
    """
    return ctx.once(
        ("audience", query.creator_id, query.filters, start, end, tuple(measures)),
        lambda: _read_person_facts(ctx.con, query, start, end, measures),
    )


# The fingerprint of the audience rows a question counts: their number, an XOR of their
# viewers' pseudonyms (random 64-bit numbers already) and their sums. Two questions
# counting the same rows, however they are worded, get the same fingerprint, so the same
# noise; any change of the rows (one more play) changes it.
_ROWS_COUNTED = (
    "count(*) FILTER ({c})",
    "coalesce(bit_xor(viewer_pid) FILTER ({c}), 0)",
    "coalesce(sum(plays) FILTER ({c}), 0)",
    "coalesce(sum(views) FILTER ({c}), 0)",
    "coalesce(sum(watch_ms) FILTER ({c}), 0)",
)


def _read_person_facts(
    con: Session, query: Query, start: date, end: date, measures: list[str]
) -> PersonFacts:
    params: dict = {"creator": query.creator_id, "start": start, "end": end}
    clauses = filter_clauses(query, params)
    selected = " AND ".join(["NOT opt_out", *clauses])
    everyone = " AND ".join(clauses) or "true"
    exprs = [e.format(c=selected) for e in _ROWS_COUNTED]
    opted = [
        f"coalesce({dict(METRICS[m].sources)['audience']} FILTER (opt_out AND {everyone}), 0)"
        for m in measures
    ]
    exprs += opted
    named: list[tuple[int, str, str]] = []
    left_out: list[tuple[int, str]] = []
    for i, f in enumerate(query.filters):
        if not DIMENSIONS[f.dimension].person:
            continue
        others = " AND ".join(c for j, c in enumerate(clauses) if j != i) or "true"
        column = DIMENSIONS[f.dimension].column
        for value in sorted(set(f.values)):
            name = f"named_{len(named)}"
            params[name] = _typed(f.dimension, value)
            exprs.append(
                "count(DISTINCT viewer_pid) FILTER "
                f"(NOT opt_out AND {others} AND ({column}) IS NOT DISTINCT FROM ${name})"
            )
            named.append((i, f.dimension, value))
        exprs.append(
            f"count(DISTINCT viewer_pid) FILTER ({others} AND (opt_out OR NOT ({clauses[i]})))"
        )
        left_out.append((i, f.dimension))
    where = "creator_id = $creator AND local_date BETWEEN $start AND $end"
    sums = f"SELECT {', '.join(exprs)} FROM rollup_audience_daily WHERE {where}"
    if query.filters:
        people = f"""
            SELECT count(DISTINCT viewer_pid) FILTER ({selected}),
                   count(DISTINCT viewer_pid) FILTER ({selected} AND age_bucket = '{MINOR_BUCKET}'),
                   count(DISTINCT viewer_pid) FILTER (opt_out AND {everyone})
            FROM rollup_audience_daily WHERE {where}"""
    else:
        # The whole period: the same people, counted from the viewer days (no distinct).
        counts = [first_days(p) for p in ("not_opted_out", "minor", "opted_out")]
        people = f"""
            SELECT {", ".join(counts)}
            FROM rollup_viewer_day_counts
            WHERE {where} {_properties_read(counts)}"""
    read = con.execute(f"SELECT * FROM ({people}) p, ({sums}) s", params).fetchone()
    row = [int(v) for v in read]
    fixed = 3 + len(_ROWS_COUNTED)
    rest = row[fixed + len(opted) :]
    named_counts = []
    left_counts = []
    at = 0
    for i, _dimension in left_out:
        values = [n for n in named if n[0] == i]
        named_counts += [(*n, rest[at + k]) for k, n in enumerate(values)]
        at += len(values)
        left_counts.append((i, _dimension, rest[at]))
        at += 1
    return PersonFacts(
        population=row[0],
        minors=row[1],
        opted_out_people=row[2],
        opted_out_measures=dict(zip(measures, row[fixed : fixed + len(opted)], strict=True)),
        rows_counted=tuple(row[3:fixed]),
        named=tuple(named_counts),
        left_out=tuple(left_counts),
    )
