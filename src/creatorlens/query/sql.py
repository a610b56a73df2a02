"""SQL over the rollups: the WHERE of a query, each source's SELECT, the two-step distinct counts.

Statement texts only: which reads are made, and together, is the planner's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from creatorlens.query.metrics import DERIVED, DIMENSIONS, METRICS, SOURCES, first_days
from creatorlens.query.model import Query, QueryError
from creatorlens.rollup.definitions import LOOKBACK_DAYS


def _where(
    query: Query, start: date, end: date, person_scope: bool, columns: dict[str, str] | None = None
) -> tuple[str, dict]:
    clauses = ["creator_id = $creator", "local_date BETWEEN $start AND $end"]
    params: dict[str, Any] = {"creator": query.creator_id, "start": start, "end": end}
    clauses += filter_clauses(query, params, columns)
    if person_scope:
        # Opted-out viewers count in totals, never in anything cut by a person's attribute.
        clauses.append("NOT opt_out")
    return " AND ".join(clauses), params


def filter_clauses(
    query: Query, params: dict[str, Any], columns: dict[str, str] | None = None
) -> list[str]:
    """One SQL condition per filter of the query, in order, its values bound in `params`
    (`columns`: where a source keeps a dimension other than in its usual column)."""
    clauses = []
    for i, f in enumerate(query.filters):
        column = (columns or {}).get(f.dimension) or DIMENSIONS[f.dimension].column
        names = [f"f{i}_{j}" for j in range(len(f.values))]
        params.update({n: _typed(f.dimension, v) for n, v in zip(names, f.values, strict=True)})
        values = ", ".join(f"${n}" for n in names)
        if f.op == "is_not":
            # An unknown value (NULL) is none of the values: keep it, as SQL's NOT IN would not.
            clauses.append(f"coalesce(({column}) NOT IN ({values}), true)")
        else:
            clauses.append(f"coalesce(({column}) IN ({values}), false)")
    return clauses


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


PER_VIEWER = ("audience", "engaged")

# Breakdowns by one dimension each, of the same period, rows and metrics, whose source can
# group by each of them (a person's attribute on the audience rollup, a property's value on
# the viewer-day counts), are read in one pass over the source rather than one per
# dimension: each pass costs DuckDB a plan of its own.
FUSABLE = ("audience", "viewer_values")
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
    # The viewer-day counts of one video or attribute hold it as the row's `value`.
    columns = {query.dimensions[0]: "value"} if source == "viewer_values" else None
    where, params = _where(query, start, end, people is not None and source == "audience", columns)
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
