"""The one query every interface speaks: metrics × dimensions × filters × period.

A query arrives as plain data (CLI flags, JSON from the REST API, the dashboard), is parsed
and validated once here against the metric and dimension registry, and is then a typed,
immutable value the runner executes. Errors name the field that is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from creatorlens.query.metrics import DIMENSIONS, METRICS

PERIODS = {"7d": 7, "28d": 28, "60d": 60, "365d": 365}
FILTER_OPS = ("is", "is_not")


class QueryError(ValueError):
    """A query that cannot be run, with the field it is about."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Period:
    """An inclusive range of whole days in the creator's time zone."""

    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one, for comparisons."""
        return Period(
            self.start - timedelta(days=self.days),
            self.start - timedelta(days=1),
            f"previous {self.label}",
        )


@dataclass(frozen=True)
class Filter:
    """Keep only rows whose dimension is (or is not) one of the values."""

    dimension: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    """A validated analytics query for one creator."""

    creator_id: str
    metrics: tuple[str, ...]
    period: Period
    dimensions: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    compare: bool = False
    order_by: tuple[tuple[str, str], ...] = ()
    limit: int | None = None
    # Whether a query with dimensions also wants its totals line (one more rollup read).
    totals: bool = True
    extras: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def used_dimensions(self) -> set[str]:
        """The dimensions the query groups by or filters on."""
        return set(self.dimensions) | {f.dimension for f in self.filters}

    @property
    def periods(self) -> tuple[Period, ...]:
        """The period, and the one before it when the query compares."""
        return (self.period, self.period.previous()) if self.compare else (self.period,)


def resolve_period(
    period: str | None, start: str | date | None, end: str | date | None, latest: date
) -> Period:
    """A named period (7d, 28d, 60d, 365d) ending on `latest`, or a custom from/to range."""
    if start is not None or end is not None:
        if start is None or end is None:
            raise QueryError("period", "a custom period needs both from and to")
        first, last = _date("from", start), _date("to", end)
        if last < first:
            raise QueryError("to", "is before from")
        if (last - first).days >= 3 * 366:
            raise QueryError("period", "custom periods are at most three years")
        return Period(first, last, f"{first.isoformat()}..{last.isoformat()}")
    name = period or "28d"
    if name not in PERIODS:
        raise QueryError("period", f"must be one of {', '.join(PERIODS)} or from/to dates")
    days = PERIODS[name]
    return Period(latest - timedelta(days=days - 1), latest, f"last {days} days")


def _date(name: str, value: str | date) -> date:
    if isinstance(value, date):
        return value
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
        raise QueryError(name, "must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise QueryError(name, "is not a valid date") from None


def parse_query(raw: dict[str, Any], *, latest: date) -> Query:
    """Validate a query given as plain data (e.g. decoded JSON) into a `Query`."""
    if not isinstance(raw, dict):
        raise QueryError("query", "must be an object")
    known = {
        "creator_id",
        "metrics",
        "dimensions",
        "filters",
        "period",
        "from",
        "to",
        "compare",
        "order_by",
        "limit",
    }
    for key in raw:
        if key not in known:
            raise QueryError(key, "unknown field")
    creator = raw.get("creator_id")
    if not isinstance(creator, str) or not creator:
        raise QueryError("creator_id", "required")
    metrics = _names("metrics", raw.get("metrics"), METRICS, required=True)
    dimensions = _names("dimensions", raw.get("dimensions", []), DIMENSIONS)
    listed = raw.get("filters", []) or []
    if not isinstance(listed, list | tuple):
        raise QueryError("filters", "must be a list of [operator, dimension, [values]]")
    filters = tuple(_filter(i, f) for i, f in enumerate(listed))
    period = resolve_period(raw.get("period"), raw.get("from"), raw.get("to"), latest)
    compare = raw.get("compare", False)
    if not isinstance(compare, bool):
        raise QueryError("compare", "must be true or false")
    limit = raw.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise QueryError("limit", "must be a positive integer")
    ordering = raw.get("order_by", []) or []
    if not isinstance(ordering, list | tuple):
        raise QueryError("order_by", "must be a list of [name, 'asc' | 'desc']")
    order_by = tuple(_order(i, o, metrics + dimensions) for i, o in enumerate(ordering))
    query = Query(creator, metrics, period, dimensions, filters, compare, order_by, limit)
    check_compatible(query)
    return query


def _names(field_name: str, value: Any, registry: dict, required: bool = False) -> tuple[str, ...]:
    if value is None:
        value = []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise QueryError(field_name, "must be a list of names")
    if required and not value:
        raise QueryError(field_name, "at least one is required")
    for v in value:
        if v not in registry:
            raise QueryError(field_name, f"unknown name {v!r} (known: {', '.join(registry)})")
    if len(set(value)) != len(value):
        raise QueryError(field_name, "names repeat")
    return tuple(value)


def _filter(i: int, raw: Any) -> Filter:
    where = f"filters[{i}]"
    if not isinstance(raw, list | tuple) or len(raw) != 3:
        raise QueryError(where, "must be [operator, dimension, [values]]")
    op, dimension, values = raw
    if not isinstance(op, str) or op not in FILTER_OPS:
        raise QueryError(where, f"operator must be one of {', '.join(FILTER_OPS)}")
    if not isinstance(dimension, str) or dimension not in DIMENSIONS:
        raise QueryError(where, f"unknown dimension {dimension!r}")
    if isinstance(values, str):
        values = [values]
    if not values or not all(isinstance(v, str | int) for v in values):
        raise QueryError(where, "values must be a non-empty list")
    return Filter(dimension, op, tuple(str(v) for v in values))


def _order(i: int, raw: Any, allowed: tuple[str, ...]) -> tuple[str, str]:
    where = f"order_by[{i}]"
    if not isinstance(raw, list | tuple) or len(raw) != 2 or raw[1] not in ("asc", "desc"):
        raise QueryError(where, "must be [name, 'asc' | 'desc']")
    if raw[0] not in allowed:
        raise QueryError(where, f"{raw[0]!r} is not a metric or dimension of this query")
    return (raw[0], raw[1])


def check_compatible(query: Query) -> None:
    """Every metric must be computable at the grain of every dimension and filter asked."""
    used = query.used_dimensions
    for name in query.metrics:
        if not used <= METRICS[name].dimensions:
            wrong = sorted(used - METRICS[name].dimensions)
            raise QueryError(
                "dimensions" if set(wrong) & set(query.dimensions) else "filters",
                f"metric {name!r} cannot be broken down or filtered by {', '.join(wrong)} "
                f"(it supports: {', '.join(sorted(METRICS[name].dimensions)) or 'none'})",
            )
        for part in METRICS[name].derived or (name,):
            source = METRICS[part].source_for(used, query.dimensions)
            if METRICS[part].sources and source is None:
                raise QueryError(
                    "dimensions",
                    f"metric {name!r} cannot combine the dimensions {', '.join(sorted(used))}",
                )
