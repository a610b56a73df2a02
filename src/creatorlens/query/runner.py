"""Running a query: SQL over the rollups, derived metrics, comparison, then the privacy policy.

A short pipeline, as in Plausible's query runner: pick a rollup per metric group, execute,
merge the groups on the dimension values, derive ratios and nets, add the comparison period
as its own step, and hand every row to the privacy policy before it leaves.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

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
    first_days,
)
from creatorlens.query.model import Query, QueryError
from creatorlens.query.result import QueryResult, Withheld
from creatorlens.rollup.definitions import LOOKBACK_DAYS
from creatorlens.store.database import Session

Row = dict[str, Any]
T = TypeVar("T")


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
    return any(DIMENSIONS[d].person for d in query.used_dimensions)


def base_metrics(metrics: tuple[str, ...]) -> list[str]:
    """The stored metrics a query needs, derived metrics expanded into their parts."""
    needed: list[str] = []
    for name in metrics:
        for part in DERIVED.get(name, (name,)):
            if part not in needed:
                needed.append(part)
    return needed


def execute(ctx: Context, query: Query, start: date, end: date) -> RawResult:
    """Compute the query's rows and totals for one period, straight from the rollups (or
    take them as `prefetch` read them ahead)."""
    ahead = ctx.memo.pop(("raw", query, start, end), None)
    return ahead if ahead is not None else execute_batch(ctx, [(query, start, end)])[0]


@dataclass(frozen=True)
class _Plan:
    """How one query is read: its stored metrics grouped by the rollup they come from, the
    metrics computed apart, and the source counting the people behind each cell (for a
    person breakdown)."""

    query: Query
    by_source: dict[str, list[str]]
    special: list[str]
    people: str | None


def _plan(query: Query) -> _Plan:
    dims = query.dimensions
    used = query.used_dimensions
    by_source: dict[str, list[str]] = defaultdict(list)
    special: list[str] = []
    for name in base_metrics(query.metrics):
        metric = METRICS[name]
        if not metric.sources:
            special.append(name)
            continue
        by_source[metric.source_for(used, dims) or ""].append(name)
    people = None
    if involves_person(query):
        # The people behind each cell: from the viewer-day counts when they answer the
        # query's breakdown (its reach is read there), else from the audience rollup.
        people = "viewer_values" if "viewer_values" in by_source else "audience"
        by_source.setdefault(people, [])
    return _Plan(query, dict(by_source), special, people)


def execute_batch(ctx: Context, reads: list[tuple[Query, date, date]]) -> list[RawResult]:
    """`execute` for several (query, start, end) at once: one statement reads them all."""
    plans = [_plan(query) for query, _, _ in reads]
    merged: list[dict[tuple, Row]] = [{} for _ in reads]
    people_in: list[dict[tuple, int]] = [{} for _ in reads]
    periods = [(start, end) for _, start, end in reads]
    for r, key, row in _source_rows(ctx.con, plans, periods):
        dims = plans[r].query.dimensions
        target = merged[r].setdefault(key, dict(zip(dims, key, strict=True)))
        if "_people" in row:
            people_in[r][key] = row.pop("_people")
        target.update(row)
    results = []
    for r, ((query, _, end), plan) in enumerate(zip(reads, plans, strict=True)):
        rows = list(merged[r].values())
        for name in plan.special:
            if name == "followers_total":
                total = followers_total(ctx, query.creator_id, end)
                for row in rows or [{}]:
                    row["followers_total"] = total
                if not rows:
                    rows = [{"followers_total": total}]
        derived = [name for name in query.metrics if name in DERIVED]
        stored = base_metrics(query.metrics)
        for row in rows:
            for name in derived:
                row[name] = derive(name, row)
            for name in stored:
                row.setdefault(name, 0)
        results.append(RawResult(rows=rows, totals={}, people=people_in[r]))
    return results


def _source_rows(con: Session, plans: list[_Plan], periods: list[tuple[date, date]]):
    """Read every source's metrics for every read in one statement (a UNION ALL, one
    branch per read and rollup, each row tagged with its branch) and yield (read index,
    dimension key, metrics). Dimension columns are named by dimension (`dim_<name>`), NULL
    where a branch has none; each branch's counts come as one list, in the order of its
    metrics, a person breakdown's people source adding the people behind each cell
    (`_people`) last. (Columns of every metric, NULL-padded, would make DuckDB bind and
    plan hundreds of expressions for a dashboard panel.)"""
    branches, params, tags = [], {}, []
    passes = _fused(plans, periods)
    dim_names: list[str] = []
    for plan in plans:
        dim_names += [d for d in plan.query.dimensions if d not in dim_names]
    if any(kind == "days" for kind, _ in passes) and "day" not in dim_names:
        dim_names.append("day")
    # Passes by day, by their tag: their reads, and the metrics they read (list order).
    day_passes: dict[int, tuple[list[tuple[int, str]], list[str]]] = {}
    for kind, members in passes:
        r, source = members[0]
        plan, (start, end) = plans[r], periods[r]
        names = plan.by_source[source]
        if kind == "alone":
            sql, branch_params, produced = _source_select(
                plan.query, source, names, start, end, plan.people
            )
            src = f"{len(tags)}"
            dims = plan.query.dimensions
            dim_of = {d: f"d{i}" for i, d in enumerate(dims)}
        elif kind == "days":
            names = list(dict.fromkeys(n for m, _ in members for n in plans[m].by_source[source]))
            start = min(periods[m][0] for m, _ in members)
            end = max(periods[m][1] for m, _ in members)
            sql, branch_params, produced = _days_select(plan.query, source, names, start, end)
            src = f"{len(tags)}"
            dim_of = {"day": "d0"}
            day_passes[len(tags)] = (members, names)
            members = members[:1]  # one tag for the pass: its rows are shared out below
        else:
            queries = [plans[m].query for m, _ in members]
            sql, branch_params, produced, dim_of = _fused_select(
                queries, source, names, start, end, plan.people
            )
            src = f"{len(tags)} + g"  # the member's own tag: g numbers the members
        # Each read binds its own values: every parameter is renamed for it (for a pass by
        # day, for the pass: its days span its reads' periods).
        own = f"t{len(tags)}" if kind == "days" else f"{r}"
        sql = re.sub(
            r"\$(\w+)\b",
            lambda m, own=own, names=branch_params: f"${m[1]}_{own}" if m[1] in names else m[0],
            sql,
        )
        params.update({f"{k}_{own}": v for k, v in branch_params.items()})
        outer = [f"{src} AS src"]
        outer += [
            f"{dim_of[d]} AS dim_{d}" if d in dim_of else f"NULL AS dim_{d}" for d in dim_names
        ]
        counts = [f"m_{n}" for n in names] + (["_people"] if "_people" in produced else [])
        # BIGINT, not the HUGEINT that sum() gives: Python reads a HUGEINT list about
        # twice as slowly, and no count or sum of milliseconds comes near 2^63.
        outer.append(f"[{', '.join(counts)}]::BIGINT[] AS counts")
        branches.append(f"SELECT {', '.join(outer)} FROM ({sql}) b{len(tags)}")
        tags += [(m, source) for m, _ in members]
    if not branches:
        return
    cursor = con.execute("\nUNION ALL\n".join(branches), params)
    columns = [d[0] for d in cursor.description]
    # Per branch: its read, where its dimensions sit in a row, its metrics in list order,
    # and whether the people behind each cell close the list.
    layouts = [
        (
            r,
            [columns.index(f"dim_{d}") for d in plans[r].query.dimensions],
            plans[r].by_source[source],
            source == plans[r].people,
        )
        for r, source in tags
    ]
    counts_at = columns.index("counts")
    by_day: dict[int, list[tuple[date, list]]] = {tag: [] for tag in day_passes}
    day_at = columns.index("dim_day") if day_passes else None
    for values in cursor.fetchall():
        if values[0] in by_day:
            by_day[values[0]].append((values[day_at], values[counts_at]))
            continue
        r, dims_at, metrics, with_people = layouts[values[0]]
        counts = values[counts_at]  # Python ints (or NULL for a sum over no rows)
        row = dict(zip(metrics, counts, strict=False))
        if with_people:
            row["_people"] = counts[len(metrics)]
        yield r, tuple(_plain(values[i]) for i in dims_at), row
    for tag, days in by_day.items():
        yield from _shared_days(days, *day_passes[tag], plans, periods)


def _shared_days(
    days: list[tuple[date, list]],
    members: list[tuple[int, str]],
    names: list[str],
    plans: list[_Plan],
    periods: list[tuple[date, date]],
):
    """A pass by day shared out to its reads: each read's days, or its period's sums (None
    where no day has a value, as SQL's sum over no rows gives)."""
    for r, source in members:
        start, end = periods[r]
        metrics = plans[r].by_source[source]
        at = [names.index(m) for m in metrics]
        own = [(day, counts) for day, counts in days if start <= day <= end]
        if plans[r].query.dimensions:
            for day, counts in own:
                yield r, (_plain(day),), {m: counts[i] for m, i in zip(metrics, at, strict=True)}
        else:
            sums = [[c[i] for _, c in own if c[i] is not None] for i in at]
            yield r, (), {m: sum(v) if v else None for m, v in zip(metrics, sums, strict=True)}


# Per-viewer rollups: distinct viewers are counted in two steps there (see _source_select).
PER_VIEWER = ("audience", "engaged")
_DISTINCT = re.compile(r"count\(DISTINCT viewer_pid\)(?: FILTER \((?P<cond>.+)\))?")
_SUM = re.compile(r"sum\((?P<column>\w+)\)")


def _source_select(
    query: Query,
    source: str,
    names: list[str],
    start: date,
    end: date,
    people: str | None,
) -> tuple[str, dict[str, Any], set[str]]:
    """One source's SELECT of dimension columns d0.. and metric columns m_<name>."""
    table = SOURCES[source][0]
    dims = query.dimensions
    where, params, exprs = _aggregates(query, source, names, start, end, people)
    if source == "viewer_values":
        # The counts of the one video or attribute the query breaks down by; opted-out
        # viewers are not in the attribute properties at all.
        where += f" AND property = '{dims[0]}'"
    elif source in ("viewer_firsts", "viewer_daily"):
        where += _properties_read(exprs.values())
    rows = table
    if _reads_seen_before(exprs):
        # `seen_before`, which the new and returning viewer counts read, is set for viewers
        # whose first day in the period follows a play in the year before it: each viewer
        # has one row in the period with an earlier prev_date.
        rows = f"""(
            SELECT * FROM {table} w LEFT JOIN (
                SELECT viewer_pid AS seen_before FROM rollup_viewer_days
                WHERE creator_id = $creator AND property = 'all'
                  AND local_date BETWEEN $start AND $end
                  AND prev_date >= $lookback AND prev_date < $start
            ) e ON e.seen_before = w.viewer_pid
        ) window_rows"""
    dim_cols = [f"{DIMENSIONS[d].column} AS d{i}" for i, d in enumerate(dims)]
    if source == "viewer_values":
        dim_cols = ["value AS d0"]
    keys = [f"d{i}" for i in range(len(dims))]
    if _needs_two_steps(source, exprs):
        sql = _two_step(rows, where, dim_cols, keys, exprs)
    else:
        group = f"GROUP BY {', '.join(keys)}" if dims else ""
        select = ", ".join(dim_cols + [f"{e} AS {c}" for c, e in exprs.items()]) or "1"
        sql = f"SELECT {select} FROM {rows} WHERE {where} {group}"
    if "$lookback" in sql:
        params["lookback"] = start - timedelta(days=LOOKBACK_DAYS)
    return sql, params, set(exprs)


def _aggregates(
    query: Query, source: str, names: list[str], start: date, end: date, people: str | None
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The rows a read takes from a source (WHERE and its values) and its aggregates."""
    where, params = _where(query, start, end, people is not None and source == "audience")
    return where, params, _aggregate_exprs(source, names, people)


def _aggregate_exprs(source: str, names: list[str], people: str | None) -> dict[str, str]:
    """A read's aggregates on a source by column: m_<name>, and `_people` when the source
    counts the people behind each cell."""
    exprs = {f"m_{n}": dict(METRICS[n].sources)[source] for n in names}
    if source == people:
        exprs["_people"] = (
            first_days(None) if source == "viewer_values" else "count(DISTINCT viewer_pid)"
        )
    return exprs


def _needs_two_steps(source: str, exprs: dict[str, str]) -> bool:
    distinct = [e for e in exprs.values() if _DISTINCT.fullmatch(e)]
    return source in PER_VIEWER and len(distinct) > 1


def _reads_seen_before(exprs: dict[str, str]) -> bool:
    """Whether the aggregates read `seen_before` (a join to the year before the period)."""
    return any("seen_before" in e for e in exprs.values())


# Breakdowns by one dimension each, of the same period, rows and metrics, whose source can
# group by each of them (a person's attribute on the audience rollup, a property's value on
# the viewer-day counts), are read in one pass over the source rather than one per
# dimension: each pass costs DuckDB a plan of its own.
FUSABLE = ("audience", "viewer_values")


def _fused(
    plans: list[_Plan], periods: list[tuple[date, date]]
) -> list[tuple[str, list[tuple[int, str]]]]:
    """Every (read, source) of a batch, in order, in passes: alone, with the other
    one-dimension breakdowns it can be read with ("dims"), or with the other totals and
    daily series of the same rows of a source of daily sums ("days", see `_sums_by_day`)."""
    groups: dict[tuple, list[tuple[int, str]]] = {}
    for r, (plan, period) in enumerate(zip(plans, periods, strict=True)):
        query = plan.query
        for source, names in plan.by_source.items():
            key: tuple = (r, source)
            exprs = _aggregate_exprs(source, names, plan.people)
            if source in FUSABLE and len(query.dimensions) == 1:
                if not _needs_two_steps(source, exprs) and not _reads_seen_before(exprs):
                    # What decides the rows read (the WHERE) and what is computed of them.
                    key = ("dims", source, period, query.creator_id, query.filters,
                           plan.people is not None, tuple(exprs.items()))  # fmt: skip
                    taken = {plans[m].query.dimensions for m, _ in groups.get(key, [])}
                    if query.dimensions in taken:
                        key = (r, source)
            elif query.dimensions in ((), ("day",)) and _sums_by_day(source, exprs, plan):
                key = ("days", source, query.creator_id, query.filters)
            groups.setdefault(key, []).append((r, source))
    return [
        ("alone" if len(members) == 1 else str(key[0]), members) for key, members in groups.items()
    ]


def _sums_by_day(source: str, exprs: dict[str, str], plan: _Plan) -> bool:
    """Whether a read's aggregates are plain sums of a source whose rows each fall on one
    day: its totals over any days are then the sums of its sums by day, so reads of different
    periods and metrics (a period, the one before, its days) take one pass grouped by day
    over all their days. Each such pass saves DuckDB a plan and a scan."""
    return (
        source not in FUSABLE
        and plan.people is None
        and "day" in SOURCES[source][1]
        and all(_SUM.fullmatch(e) for e in exprs.values())
    )


def _days_select(
    query: Query, source: str, names: list[str], start: date, end: date
) -> tuple[str, dict[str, Any], set[str]]:
    """One source's sums of `names` by day (`d0`) from `start` to `end`."""
    where, params, exprs = _aggregates(query, source, names, start, end, None)
    select = ", ".join(
        [f"{DIMENSIONS['day'].column} AS d0"] + [f"{e} AS {c}" for c, e in exprs.items()]
    )
    return (
        f"SELECT {select} FROM {SOURCES[source][0]} WHERE {where} GROUP BY d0",
        params,
        set(exprs),
    )


def _fused_select(
    queries: list[Query],
    source: str,
    names: list[str],
    start: date,
    end: date,
    people: str | None,
) -> tuple[str, dict[str, Any], set[str], dict[str, str]]:
    """One pass over a source for several one-dimension breakdowns (see `FUSABLE`): rows
    tagged `g`, the breakdown's place in `queries`, and where each dimension's value is."""
    dims = [q.dimensions[0] for q in queries]
    where, params, exprs = _aggregates(queries[0], source, names, start, end, people)
    aggregates = ", ".join(f"{e} AS {c}" for c, e in exprs.items())
    if source == "viewer_values":
        tag = " ".join(f"WHEN '{d}' THEN {g}" for g, d in enumerate(dims))
        sql = f"""SELECT CASE property {tag} END AS g, value AS d, {aggregates}
            FROM {SOURCES[source][0]}
            WHERE {where} AND property IN ({", ".join(repr(d) for d in dims)})
            GROUP BY property, value"""
        dim_of = {d: f"CASE WHEN g = {g} THEN d END" for g, d in enumerate(dims)}
    else:
        keys = [f"k{g}" for g in range(len(dims))]
        columns = ", ".join(f"{DIMENSIONS[d].column} AS k{g}" for g, d in enumerate(dims))
        tag = " ".join(f"WHEN GROUPING({k}) = 0 THEN {g}" for g, k in enumerate(keys))
        sql = f"""SELECT CASE {tag} END AS g, {", ".join(keys)}, {aggregates}
            FROM (SELECT *, {columns} FROM {SOURCES[source][0]} WHERE {where}) cells
            GROUP BY GROUPING SETS ({", ".join(f"({k})" for k in keys)})"""
        # In a grouping set's rows, the other sets' keys are NULL.
        dim_of = dict(zip(dims, keys, strict=True))
    return sql, params, set(exprs), dim_of


_PROPERTY = re.compile(r"property = '(\w+)'")


def _properties_read(exprs: Iterable[str]) -> str:
    """A condition keeping only the viewer-day count rows of the properties that aggregates
    `exprs` (each over one property) read. The table is ordered by creator and property,
    so a popular creator's rows of other properties (each video, country, age bucket...)
    are skipped rather than read and filtered out."""
    props = [_PROPERTY.findall(e) for e in exprs]
    if not props or not all(props):
        return ""
    names = sorted({p for found in props for p in found})
    if len(names) == 1:
        return f" AND property = '{names[0]}'"
    return f" AND property IN ({', '.join(repr(n) for n in names)})"


def _two_step(
    rows: str, where: str, dim_cols: list[str], keys: list[str], exprs: dict[str, str]
) -> str:
    """Several distinct-viewer counts at once: first one row per viewer (and dimension
    values) with a flag per condition, then a plain count of the flags. Much cheaper than
    one distinct hash table per count."""
    inner, outer = [], []
    for i, (column, expr) in enumerate(exprs.items()):
        if m := _DISTINCT.fullmatch(expr):
            if m["cond"]:
                inner.append(f"bool_or({m['cond']}) AS x{i}")
                outer.append(f"count(*) FILTER (x{i}) AS {column}")
            else:
                outer.append(f"count(*) AS {column}")
        elif m := _SUM.fullmatch(expr):
            inner.append(f"sum({m['column']}) AS x{i}")
            outer.append(f"sum(x{i}) AS {column}")
        else:
            raise ValueError(f"no two-step form for {expr!r}")
    per_viewer = ", ".join([*dim_cols, "viewer_pid", *inner])
    group = f"GROUP BY {', '.join(keys)}" if keys else ""
    return f"""
        SELECT {", ".join([*keys, *outer])} FROM (
            SELECT {per_viewer} FROM {rows} WHERE {where}
            GROUP BY {", ".join([*keys, "viewer_pid"])}
        ) per_viewer {group}"""


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "is_integer") and not isinstance(value, float):
        return int(value)
    return value


def totals_query(query: Query) -> Query:
    """The same question without dimensions: the totals line."""
    return replace(query, dimensions=(), order_by=(), limit=None)


# --- the pipeline: execute, compare, protect ------------------------------------------------

ADDITIVE_AUDIENCE = tuple(m for m in PERSON_METRICS if m != "reach")


@dataclass(frozen=True)
class Context:
    """What a run needs besides the query: the store, the policy and the noise secret."""

    con: Session
    policy: PrivacyPolicy
    secret: bytes
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


def run_query(ctx: Context, query: Query) -> QueryResult:
    """Run a query and return only what the privacy policy lets the creator see."""
    prefetch(ctx, [query])
    result = _protected(ctx, query, query.period.start, query.period.end)
    comparison = None
    if query.compare:
        previous = query.period.previous()
        comparison = _protected(ctx, query, previous.start, previous.end).totals
    rows = _ordered(query, result.rows)
    return QueryResult(query, rows, result.totals, comparison, result.withheld)


def prefetch(ctx: Context, queries: list[Query]) -> None:
    """Read ahead, in one statement, every rollup read that running `queries` will make
    (rows, totals line, comparison period) and that is not read ahead yet; `execute`
    takes them from the context. Nothing leaves here: each query's figures still go
    through the privacy policy when it runs."""
    for creator_id in {q.creator_id for q in queries}:
        # Follower counts at each end a query splits by followers at (or shows).
        ends = {
            period.end
            for q in queries
            if q.creator_id == creator_id and _needs_followers(q)
            for period in q.periods
        }
        read_followers_totals(ctx, creator_id, ends)
    reads = [r for q in queries for r in _reads(q) if ("raw", *r) not in ctx.memo]
    reads = list(dict.fromkeys(reads))
    if len(reads) < 2:
        return  # one read: `execute` makes it when it is needed
    for read, raw in zip(reads, execute_batch(ctx, reads), strict=True):
        ctx.memo[("raw", *read)] = raw


def _needs_followers(query: Query) -> bool:
    return "follower_status" in query.used_dimensions or any(
        m in FOLLOWER_SCOPED or m == "followers_total" for m in query.metrics
    )


def _reads(query: Query) -> list[tuple[Query, date, date]]:
    """The (query, start, end) reads that `run_query(query)` passes to `execute`."""
    out = []
    for period in query.periods:
        start, end = period.start, period.end
        if involves_person(query):
            if any(DIMENSIONS[d].person for d in query.dimensions):
                out.append((query, start, end))
            else:
                out.append((totals_query(query), start, end))
            continue
        if query.dimensions:
            out.append((query, start, end))
        if query.totals or not query.dimensions:
            out.append((totals_query(query), start, end))
    return out


def _ordered(query: Query, rows: list[Row]) -> list[Row]:
    order = query.order_by or tuple((d, "asc") for d in query.dimensions if d in ("day", "hour"))
    for name, direction in reversed(order):
        rows.sort(key=lambda r, n=name: (r.get(n) is None, r.get(n)), reverse=direction == "desc")
    return rows[: query.limit] if query.limit else rows


# Follows are public acts, so a creator knows who their followers are: anything split by
# follower status is about identifiable people and needs a follower population of k_min.
FOLLOWER_SCOPED = ("follower_viewers", "non_follower_viewers")


# The attributes followers are shown by: the name shown and the account column.
FOLLOWER_DIMENSIONS = (
    ("gender", "gender"),
    ("age", "birth_year"),
    ("country", "country"),
    ("city", "city"),
)

# Followers' ages at the end of the period, in the viewers' buckets (every minor is 13-17).
AGE_AT_END = """
CASE WHEN a.birth_year IS NULL THEN NULL
     WHEN year($end) - a.birth_year < 18 THEN '13-17'
     WHEN year($end) - a.birth_year < 25 THEN '18-24'
     WHEN year($end) - a.birth_year < 35 THEN '25-34'
     WHEN year($end) - a.birth_year < 45 THEN '35-44'
     WHEN year($end) - a.birth_year < 55 THEN '45-54'
     ELSE '55+' END
"""


def _open_at(end: str) -> str:
    """A follower span (`a`) open at the end of the day bound to parameter `end`, in the
    creator's time zone (`$tz`)."""
    midnight = f"timezone($tz, (${end} + INTERVAL 1 DAY)::TIMESTAMP)"
    return f"a.since < {midnight} AND (a.until IS NULL OR a.until >= {midnight})"


# A follower span of creator $c that is open at the end of day $end in time zone $tz.
_FOLLOWING_AT_END = f"a.creator_id = $c AND {_open_at('end')}"


def follower_cells(
    ctx: Context, creator_id: str, end: date
) -> dict[str, list[tuple[str, bool, int]]]:
    """The creator's followers at the end of `end` (in the creator's time zone) counted by
    (value, opted out) for each attribute of FOLLOWER_DIMENSIONS; true counts, for the
    privacy policy to protect. One read of the follower spans rollup (GROUPING SETS), once
    per context, for the demographics.
    """
    return ctx.once(
        ("followers", creator_id, end), lambda: _read_follower_cells(ctx, creator_id, end)
    )


def _read_follower_cells(
    ctx: Context, creator_id: str, end: date
) -> dict[str, list[tuple[str, bool, int]]]:
    values = {
        name: AGE_AT_END if name == "age" else f"a.{column}::VARCHAR"
        for name, column in FOLLOWER_DIMENSIONS
    }
    sets = ", ".join(f"(opted_out, {name})" for name in values)
    rows = ctx.con.execute(
        f"""
        WITH attributes AS (
            SELECT a.opt_out AS opted_out,
                   {", ".join(f"coalesce({v}, 'unknown') AS {n}" for n, v in values.items())}
            FROM rollup_follower_spans a
            WHERE {_FOLLOWING_AT_END}
        )
        SELECT {", ".join(f"GROUPING({n}) = 0" for n in values)}, opted_out,
               {", ".join(values)}, count(*)
        FROM attributes GROUP BY GROUPING SETS ({sets})
        """,
        {"c": creator_id, "end": end, "tz": ctx.timezone},
    ).fetchall()
    names = list(values)
    cells: dict[str, list[tuple[str, bool, int]]] = {n: [] for n in names}
    for row in rows:
        flags, opted_out = row[: len(names)], row[len(names)]
        attrs, people = row[len(names) + 1 : -1], row[-1]
        for name, on, value in zip(names, flags, attrs, strict=True):
            if on:
                cells[name].append((value, opted_out, int(people)))
    return cells


def followers_total(ctx: Context, creator_id: str, end: date) -> int:
    """Accounts following the creator at the end of `end` in the creator's time zone: the
    same spans `follower_cells` splits, only counted (read once per context and day)."""
    return ctx.once(
        ("followers total", creator_id, end),
        lambda: _count_followers(ctx, creator_id, [end])[0],
    )


def read_followers_totals(ctx: Context, creator_id: str, ends: set[date]) -> None:
    """`followers_total` at several ends not read yet, in one statement."""
    missing = sorted(e for e in ends if ("followers total", creator_id, e) not in ctx.memo)
    if len(missing) < 2:
        return
    for end, total in zip(missing, _count_followers(ctx, creator_id, missing), strict=True):
        ctx.memo[("followers total", creator_id, end)] = total


def _count_followers(ctx: Context, creator_id: str, ends: list[date]) -> list[int]:
    """The creator's followers at the end of each day of `ends`, in one read of its spans."""
    counts = ", ".join(f"count(*) FILTER ({_open_at(f'end{i}')})" for i in range(len(ends)))
    params = {"c": creator_id, "tz": ctx.timezone}
    params.update({f"end{i}": end for i, end in enumerate(ends)})
    row = ctx.con.execute(
        f"SELECT {counts} FROM rollup_follower_spans a WHERE a.creator_id = $c", params
    ).fetchone()
    return [int(n) for n in row]


def followers_clear(ctx: Context, creator_id: str, end: date) -> bool:
    """Whether the creator's followers at `end` are numerous enough (protected) to split by."""
    return population_clears(
        followers_total(ctx, creator_id, end),
        policy=ctx.policy,
        secret=ctx.secret,
        cell_key=digest(creator_id, "followers population"),
    )


def _protected(ctx: Context, query: Query, start: date, end: date) -> QueryResult:
    used = query.used_dimensions
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
    """One read of everything a person breakdown is checked on.

    Breakdowns of one period by several attributes share it, so it is read once per context.
    """
    return ctx.once(
        ("audience", query.creator_id, query.filters, start, end, tuple(measures)),
        lambda: _read_audience_stats(ctx.con, query, start, end, measures),
    )


def _read_audience_stats(
    con: Session, query: Query, start: date, end: date, measures: list[str]
) -> AudienceStats:
    where, params = _where(query, start, end, person_scope=False)
    opted = [
        f"coalesce({dict(METRICS[m].sources)['audience']} FILTER (opt_out), 0)" for m in measures
    ]
    sums = f"""
        SELECT count(*), coalesce(sum(plays), 0), coalesce(sum(watch_ms), 0)
               {"".join(", " + o for o in opted)}
        FROM rollup_audience_daily WHERE {where}"""
    if query.filters:
        people = f"""
            SELECT count(DISTINCT viewer_pid) FILTER (NOT opt_out),
                   count(DISTINCT viewer_pid) FILTER (NOT opt_out AND age_bucket = '13-17'),
                   count(DISTINCT viewer_pid) FILTER (opt_out)
            FROM rollup_audience_daily WHERE {where}"""
    else:
        # The whole period: the same people, counted from the viewer days (no distinct).
        counts = [first_days(p) for p in ("not_opted_out", "minor", "opted_out")]
        people = f"""
            SELECT {", ".join(counts)}
            FROM rollup_viewer_day_counts
            WHERE creator_id = $creator AND local_date BETWEEN $start AND $end
                  {_properties_read(counts)}"""
    row = con.execute(f"SELECT * FROM ({people}) people, ({sums}) sums", params).fetchone()
    return AudienceStats(
        population=int(row[0]),
        minors=int(row[1]),
        opted_out_people=int(row[2]),
        opted_out_measures={m: int(v) for m, v in zip(measures, row[6:], strict=True)},
        fingerprint=tuple(int(v) for v in row[:6]),
    )
