"""Read planning: a query's reads grouped by rollup, reads of a panel fused into one statement.

Every read returns true counts (`RawRows`); nothing here decides what may be shown.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from creatorlens.query.followers import followers_total, needs_followers, read_followers_totals
from creatorlens.query.metrics import DERIVED, DIMENSIONS, METRICS, SOURCES, derive
from creatorlens.query.model import Query
from creatorlens.query.sql import (
    _SUM,
    FUSABLE,
    _aggregate_exprs,
    _days_select,
    _fused_select,
    _needs_two_steps,
    _plain,
    _reads_seen_before,
    _source_select,
    base_metrics,
    involves_person,
    totals_query,
)
from creatorlens.store.database import Session

if TYPE_CHECKING:
    from creatorlens.query.runner import Context

Row = dict[str, Any]


@dataclass
class RawRows:
    """Rows and totals before the privacy policy; never leaves the query package."""

    rows: list[Row]
    totals: Row
    people: dict[tuple, int] = field(default_factory=dict)
    population: int | None = None


def execute(ctx: Context, query: Query, start: date, end: date) -> RawRows:
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


def execute_batch(ctx: Context, reads: list[tuple[Query, date, date]]) -> list[RawRows]:
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
        results.append(RawRows(rows=rows, totals={}, people=people_in[r]))
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
            if q.creator_id == creator_id and needs_followers(q)
            for period in q.periods
        }
        read_followers_totals(ctx, creator_id, ends)
    reads = [r for q in queries for r in _reads(q) if ("raw", *r) not in ctx.memo]
    reads = list(dict.fromkeys(reads))
    if len(reads) < 2:
        return  # one read: `execute` makes it when it is needed
    for read, raw in zip(reads, execute_batch(ctx, reads), strict=True):
        ctx.memo[("raw", *read)] = raw


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
