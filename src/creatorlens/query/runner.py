"""Running a query: SQL over the rollups, derived metrics, comparison, then the privacy policy.

A short pipeline, as in Plausible's query runner: pick a rollup per metric group, execute,
merge the groups on the dimension values, derive ratios and nets, add the comparison period
as its own step, and hand every row to the privacy policy before it leaves.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from creatorlens.privacy.policy import UNKNOWN, PrivacyPolicy
from creatorlens.privacy.suppression import (
    Cell,
    Window,
    check_filters,
    check_window,
    digest,
    population_clears,
    suppress_breakdown,
)
from creatorlens.query.metrics import (
    DERIVED,
    DIMENSIONS,
    METRICS,
    PERSON_METRICS,
    SOURCES,
    derive,
)
from creatorlens.query.model import Query, QueryError
from creatorlens.query.result import QueryResult, Withheld
from creatorlens.rollup.definitions import LOOKBACK_DAYS

Row = dict[str, Any]


@dataclass
class RawResult:
    """Rows and totals before the privacy policy; never leaves the query package."""

    rows: list[Row]
    totals: Row
    people: dict[tuple, int] = field(default_factory=dict)
    population: int | None = None


def _where(query: Query, start: date, end: date, person_scope: bool) -> tuple[str, dict]:
    clauses = ["creator_id = $creator", "local_date BETWEEN $start AND $end"]
    params: dict[str, Any] = {"creator": query.creator_id, "start": start, "end": end}
    for i, f in enumerate(query.filters):
        column = DIMENSIONS[f.dimension].column
        names = [f"f{i}_{j}" for j in range(len(f.values))]
        params.update({n: _typed(f.dimension, v) for n, v in zip(names, f.values, strict=True)})
        values = ", ".join(f"${n}" for n in names)
        if f.op == "is_not":
            # An unknown value (NULL) is none of the values: keep it, as SQL's NOT IN would not.
            clauses.append(f"coalesce(({column}) NOT IN ({values}), true)")
        else:
            clauses.append(f"({column}) IN ({values})")
    if person_scope:
        # Opted-out viewers count in totals, never in anything cut by a person's attribute.
        clauses.append("NOT opt_out")
    return " AND ".join(clauses), params


def _typed(dimension: str, value: str) -> Any:
    if dimension == "hour":
        try:
            return int(value)
        except ValueError:
            raise QueryError("filters", f"hour must be 0-23, not {value!r}") from None
    if dimension == "day":
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise QueryError("filters", f"day must be YYYY-MM-DD, not {value!r}") from None
    return value


def involves_person(query: Query) -> bool:
    """Whether the query cuts the audience by a person's attribute (dimension or filter)."""
    used = set(query.dimensions) | {f.dimension for f in query.filters}
    return any(DIMENSIONS[d].person for d in used)


def base_metrics(metrics: tuple[str, ...]) -> list[str]:
    """The stored metrics a query needs, derived metrics expanded into their parts."""
    needed: list[str] = []
    for name in metrics:
        for part in DERIVED.get(name, (name,)):
            if part not in needed:
                needed.append(part)
    return needed


def execute(ctx: Context, query: Query, start: date, end: date) -> RawResult:
    """Compute the query's rows and totals for one period, straight from the rollups."""
    con = ctx.con
    dims = query.dimensions
    used = set(dims) | {f.dimension for f in query.filters}
    person = involves_person(query)
    by_source: dict[str, list[str]] = defaultdict(list)
    special: list[str] = []
    for name in base_metrics(query.metrics):
        metric = METRICS[name]
        if not metric.sources:
            special.append(name)
            continue
        by_source[metric.source_for(used) or ""].append(name)
    if person:
        by_source.setdefault("audience", [])  # for the people behind each cell

    merged: dict[tuple, Row] = {}
    people: dict[tuple, int] = {}
    for source, names in by_source.items():
        table = SOURCES[source][0]
        for key, row in _source_rows(con, query, table, source, names, start, end, person):
            target = merged.setdefault(key, dict(zip(dims, key, strict=True)))
            if "_people" in row:
                people[key] = row.pop("_people")
            target.update(row)
    rows = list(merged.values())
    for name in special:
        if name == "followers_total":
            total = memo_followers_total(ctx, query.creator_id, end)
            for row in rows or [{}]:
                row["followers_total"] = total
            if not rows:
                rows = [{"followers_total": total}]
    for row in rows:
        for name in query.metrics:
            if name in DERIVED:
                row[name] = derive(name, row)
        for name in base_metrics(query.metrics):
            row.setdefault(name, 0)
    return RawResult(rows=rows, totals={}, people=people)


def _source_rows(
    con: duckdb.DuckDBPyConnection,
    query: Query,
    table: str,
    source: str,
    names: list[str],
    start: date,
    end: date,
    person: bool,
):
    dims = query.dimensions
    dim_cols = [f"{DIMENSIONS[d].column} AS d{i}" for i, d in enumerate(dims)]
    where, params = _where(query, start, end, person and source == "audience")
    aggs = []
    lifecycle = [
        n
        for n in names
        if METRICS[n].sources
        and dict(METRICS[n].sources)[source] in ("NEW_VIEWERS", "RETURNING_VIEWERS")
    ]
    for n in names:
        expr = dict(METRICS[n].sources)[source]
        if n in lifecycle:
            expr = (
                "count(DISTINCT viewer_pid) FILTER (seen_before IS NULL)"
                if expr == "NEW_VIEWERS"
                else "count(DISTINCT viewer_pid) FILTER (seen_before IS NOT NULL)"
            )
        aggs.append(f"{expr} AS m_{n}")
    if person and source == "audience":
        aggs.append("count(DISTINCT viewer_pid) AS _people")
    group = f"GROUP BY {', '.join(f'd{i}' for i in range(len(dims)))}" if dims else ""
    select = ", ".join(dim_cols + aggs) or "1"
    if lifecycle:
        # Returning viewers are those whose first day in the period follows a play in the
        # year before it; each viewer has one row in the period with an earlier prev_date.
        sql = f"""
            WITH earlier AS (
                SELECT viewer_pid AS seen_before FROM rollup_viewer_days
                WHERE creator_id = $creator AND local_date BETWEEN $start AND $end
                  AND prev_date >= $lookback AND prev_date < $start
            ),
            window_rows AS (
                SELECT * FROM {table} w LEFT JOIN earlier e ON e.seen_before = w.viewer_pid
                WHERE {where}
            )
            SELECT {select} FROM window_rows {group}
        """
    else:
        sql = f"SELECT {select} FROM {table} WHERE {where} {group}"
    if "$lookback" in sql:
        params["lookback"] = start - timedelta(days=LOOKBACK_DAYS)
    cursor = con.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    for values in cursor.fetchall():
        record = dict(zip(columns, values, strict=True))
        key = tuple(_plain(record[f"d{i}"]) for i in range(len(dims)))
        row = {c[2:]: _plain(v) for c, v in record.items() if c.startswith("m_")}
        if "_people" in record:
            row["_people"] = record["_people"]
        yield key, row


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "is_integer") and not isinstance(value, float):
        return int(value)
    return value


def followers_total(con: duckdb.DuckDBPyConnection, creator_id: str, end: date) -> int:
    """Accounts following the creator at the end of `end` in the creator's time zone."""
    row = con.execute(
        """
        WITH tz AS (
            SELECT coalesce(max(timezone), 'UTC') AS name FROM accounts WHERE account_id = $c
        ),
        cutoff AS (
            SELECT timezone((SELECT name FROM tz), ($end + INTERVAL 1 DAY)::TIMESTAMP) AS cutoff_at
        )
        SELECT count(*) FROM (
            SELECT arg_max(following, ts) AS following FROM follow_log
            WHERE followee_id = $c AND ts < (SELECT cutoff_at FROM cutoff)
            GROUP BY follower_id
        ) WHERE following
        """,
        {"c": creator_id, "end": end},
    ).fetchone()
    return int(row[0])


def totals_query(query: Query) -> Query:
    """The same question without dimensions: the totals line."""
    return replace(query, dimensions=(), order_by=(), limit=None)


# --- the pipeline: execute, compare, protect ------------------------------------------------

ADDITIVE_AUDIENCE = tuple(m for m in PERSON_METRICS if m != "reach")


@dataclass(frozen=True)
class Context:
    """What a run needs besides the query: the store, the policy and the noise secret."""

    con: duckdb.DuckDBPyConnection
    policy: PrivacyPolicy
    secret: bytes
    timezone: str
    # Figures several queries of one dashboard need (e.g. the follower count at the end).
    memo: dict = field(default_factory=dict, compare=False)


def run_query(ctx: Context, query: Query) -> QueryResult:
    """Run a query and return only what the privacy policy lets the creator see."""
    result = _protected(ctx, query, query.period.start, query.period.end)
    comparison = None
    if query.compare:
        previous = query.period.previous()
        comparison = _protected(ctx, query, previous.start, previous.end).totals
    rows = _ordered(query, result.rows)
    return QueryResult(query, rows, result.totals, comparison, result.withheld)


def _ordered(query: Query, rows: list[Row]) -> list[Row]:
    order = query.order_by or tuple((d, "asc") for d in query.dimensions if d in ("day", "hour"))
    for name, direction in reversed(order):
        rows.sort(key=lambda r, n=name: (r.get(n) is None, r.get(n)), reverse=direction == "desc")
    return rows[: query.limit] if query.limit else rows


# Follows are public acts, so a creator knows who their followers are: anything split by
# follower status is about identifiable people and needs a follower population of k_min.
FOLLOWER_SCOPED = ("follower_viewers", "non_follower_viewers")


def memo_followers_total(ctx: Context, creator_id: str, end: date) -> int:
    """`followers_total`, read once per context (a dashboard needs it several times)."""
    key = ("followers_total", creator_id, end)
    if key not in ctx.memo:
        ctx.memo[key] = followers_total(ctx.con, creator_id, end)
    return ctx.memo[key]


def followers_clear(ctx: Context, creator_id: str, end: date) -> bool:
    """Whether the creator's followers at `end` are numerous enough (protected) to split by."""
    return population_clears(
        memo_followers_total(ctx, creator_id, end),
        policy=ctx.policy,
        secret=ctx.secret,
        cell_key=digest(creator_id, "followers population"),
    )


def _protected(ctx: Context, query: Query, start: date, end: date) -> QueryResult:
    used = set(query.dimensions) | {f.dimension for f in query.filters}
    scoped = [m for m in query.metrics if m in FOLLOWER_SCOPED]
    if (scoped or "follower_status" in used) and not followers_clear(ctx, query.creator_id, end):
        note = Withheld("follower split", "follower population below k_min")
        if "follower_status" in used:
            return QueryResult(query, [], {m: None for m in query.metrics}, None, [note])
        result = _unscoped(ctx, query, start, end)
        hide = {m: None for m in scoped}
        rows = [{**r, **hide} for r in result.rows]
        return QueryResult(query, rows, {**result.totals, **hide}, None, [*result.withheld, note])
    return _unscoped(ctx, query, start, end)


def _unscoped(ctx: Context, query: Query, start: date, end: date) -> QueryResult:
    if involves_person(query):
        return _person_breakdown(ctx, query, start, end)
    rows: list[Row] = []
    if query.dimensions:
        rows = [_public(query, r) for r in execute(ctx, query, start, end).rows]
    totals: Row = {}
    if query.totals or not query.dimensions:
        raw = execute(ctx, totals_query(query), start, end).rows
        totals = _public(query, raw[0] if raw else {m: 0 for m in query.metrics})
    return QueryResult(query, rows, totals)


def _public(query: Query, row: Row) -> Row:
    """Only the dimensions and metrics asked, in a stable order."""
    return {k: row.get(k) for k in (*query.dimensions, *query.metrics)}


def _person_breakdown(ctx: Context, query: Query, start: date, end: date) -> QueryResult:
    policy = ctx.policy
    person_dims = [d for d in query.dimensions if DIMENSIONS[d].person]
    others = [d for d in query.dimensions if not DIMENSIONS[d].person]
    if len(person_dims) > 1 or others:
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
    window = Window(
        _local_midnight(start, ctx.timezone),
        _local_midnight(end + timedelta(days=1), ctx.timezone),
        ctx.timezone,
    )
    measures = [m for m in query.metrics if m in ADDITIVE_AUDIENCE]
    stats = _audience_stats(ctx, query, start, end, measures)
    # The scope names the question and fingerprints the data behind it, not its dates: the
    # same data asked about through another window gets the same noise.
    scope = digest(
        query.creator_id,
        query.metrics,
        query.dimensions,
        [(f.op, f.dimension, f.values) for f in query.filters],
        stats.fingerprint,
    )
    refusal = check_window(window, policy=policy) or check_filters(
        {
            f.dimension: ",".join(f.values) if f.op == "is" else "not " + ",".join(f.values)
            for f in query.filters
            if DIMENSIONS[f.dimension].person
        },
        population=stats.population,
        policy=policy,
        secret=ctx.secret,
        scope=scope,
    )
    if refusal is not None:
        withheld = [Withheld("result", str(refusal.reason), refusal.detail)]
        return QueryResult(query, [], {m: None for m in query.metrics}, None, withheld)
    if not person_dims:  # person filters only: a filtered total
        raw = execute(ctx, totals_query(query), start, end).rows
        return QueryResult(query, [], _public(query, raw[0] if raw else {}))

    dim = person_dims[0]
    raw = execute(ctx, query, start, end)
    cells = [
        Cell(
            value=str(row[dim]) if row[dim] is not None else UNKNOWN,
            people=raw.people.get((row[dim],), 0),
            measures={m: int(row.get(m) or 0) for m in measures},
        )
        for row in raw.rows
    ]
    breakdown = suppress_breakdown(
        cells,
        population=stats.population,
        policy=policy,
        dimension=dim,
        secret=ctx.secret,
        scope=scope,
        minors=None if dim == "age" else stats.minors,
        opted_out_people=stats.opted_out_people,
        opted_out_measures=stats.opted_out_measures,
    )
    withheld = [
        Withheld(
            w.what,
            str(w.reason),
            f"merged into {w.merged_into}" if w.merged_into else "",
        )
        for w in breakdown.withheld
    ]
    if breakdown.total is None:
        return QueryResult(query, [], {m: None for m in query.metrics}, None, withheld)

    def shown(value: str, people: int, values: dict[str, int]) -> Row:
        row: Row = {dim: value}
        for m in query.metrics:
            row[m] = people if m == "reach" else values.get(m)
        return row

    rows = [shown(r.value, r.people, r.measures) for r in breakdown.rows]
    if breakdown.other is not None:
        rows.append(shown("other", breakdown.other.people, breakdown.other.measures))
    totals = shown("total", breakdown.total.people, breakdown.total.measures)
    totals.pop(dim)
    return QueryResult(query, rows, totals, None, withheld)


def _local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz))


@dataclass(frozen=True)
class AudienceStats:
    """The people behind a person breakdown: population, minors, opt-outs (true counts)."""

    population: int
    minors: int
    opted_out_people: int
    opted_out_measures: dict[str, int]
    fingerprint: tuple


def _audience_stats(
    ctx: Context, query: Query, start: date, end: date, measures: list[str]
) -> AudienceStats:
    """One pass over the audience rollup for everything a person breakdown is checked on.

    Breakdowns of one period by several attributes share it, so it is read once per context.
    """
    key = ("audience", query.creator_id, query.filters, start, end, tuple(measures))
    if key not in ctx.memo:
        ctx.memo[key] = _read_audience_stats(ctx.con, query, start, end, measures)
    return ctx.memo[key]


def _read_audience_stats(
    con: duckdb.DuckDBPyConnection, query: Query, start: date, end: date, measures: list[str]
) -> AudienceStats:
    where, params = _where(query, start, end, person_scope=False)
    opted = [
        f"coalesce({dict(METRICS[m].sources)['audience']} FILTER (opt_out), 0)" for m in measures
    ]
    row = con.execute(
        f"""
        SELECT count(DISTINCT viewer_pid) FILTER (NOT opt_out),
               count(DISTINCT viewer_pid) FILTER (NOT opt_out AND age_bucket = '13-17'),
               count(DISTINCT viewer_pid) FILTER (opt_out),
               count(*), coalesce(sum(plays), 0), coalesce(sum(watch_ms), 0)
               {"".join(", " + o for o in opted)}
        FROM rollup_audience_daily WHERE {where}
        """,
        params,
    ).fetchone()
    return AudienceStats(
        population=int(row[0]),
        minors=int(row[1]),
        opted_out_people=int(row[2]),
        opted_out_measures={m: int(v) for m, v in zip(measures, row[6:], strict=True)},
        fingerprint=tuple(int(v) for v in row[:6]),
    )
