"""The rollup definitions rendered for Spark SQL, and run on a Spark session.

Nothing here restates a rollup: every statement is `rollup.definitions` rendered in the
`SPARK` dialect, exactly as the embedded refresh renders it for DuckDB. This module says
which statements a Spark run needs, in what order, over which relations, and how a Spark
session must be set up for them to mean what they mean in DuckDB (UTC session time zone,
see `definitions.SPARK`).

The relations the statements read (`events`, `accounts`, `videos`, `actor_profiles`,
`engagement_marks`, `follower_plays`, `follow_log`) are the caller's to register as temp
views; `creatorlens.lake` registers them from the event lake.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from creatorlens.rollup.definitions import (
    FOLLOWER_SPANS,
    FOLLOWER_SPANS_COLUMNS,
    LIKER_ACCOUNTS_COLUMNS,
    LIKER_SETTINGS,
    ROLLUPS,
    SPARK,
    VIEWER_DAY_COUNTS,
    VIEWER_DAY_COUNTS_COLUMNS,
    VIEWER_DAYS,
    VIEWER_DAYS_COLUMNS,
    Column,
    Rollup,
    render,
    render_follower_spans,
    render_input,
    render_liker_accounts,
    render_viewer_day_counts,
    render_viewer_days,
)
from creatorlens.rollup.refresh import DEFAULT_VIEW_THRESHOLD_MS, DEFINITIONS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Local mode on two cores unless a cluster's master URL is given.
DEFAULT_MASTER = "local[2]"

# What every session running the rollups needs. The time zone is part of the rollups'
# meaning (definitions.SPARK); the rest keeps a small job small and the Parquet it writes
# readable as UTC instants by DuckDB.
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.shuffle.partitions": "2",
    # Re-planning each stage costs more than it saves on jobs of a few million rows.
    "spark.sql.adaptive.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
}

# Tables the rollups are grouped from, by the day they cover; the derived tables are
# computed from those afterwards, whole.
EVENT_ROLLUPS: tuple[Rollup, ...] = ROLLUPS


@dataclass(frozen=True)
class DerivedTable:
    """A table computed from other rollups (or from the follows), rather than by day."""

    name: str
    columns: tuple[Column, ...]
    sql: str
    reads: tuple[str, ...]  # rollup outputs it reads (registered under their names)


DERIVED: tuple[DerivedTable, ...] = (
    DerivedTable(
        VIEWER_DAYS, VIEWER_DAYS_COLUMNS, render_viewer_days(SPARK), ("rollup_audience_daily",)
    ),
    DerivedTable(
        VIEWER_DAY_COUNTS,
        VIEWER_DAY_COUNTS_COLUMNS,
        render_viewer_day_counts(SPARK),
        (VIEWER_DAYS,),
    ),  # fmt: skip
    DerivedTable(FOLLOWER_SPANS, FOLLOWER_SPANS_COLUMNS, render_follower_spans(SPARK), ()),
    DerivedTable(
        LIKER_SETTINGS,
        LIKER_ACCOUNTS_COLUMNS,
        render_liker_accounts(SPARK),
        ("rollup_likes_daily",),
    ),  # fmt: skip
)

# Every table a Spark run writes, with its columns (as the DuckDB store types them).
OUTPUT_COLUMNS: dict[str, tuple[Column, ...]] = {
    **{r.name: r.columns for r in EVENT_ROLLUPS},
    **{d.name: d.columns for d in DERIVED},
}
# Written by creator-local day (`local_date` partitions); the derived ones whole.
BY_DAY = tuple(r.name for r in EVENT_ROLLUPS)


def input_view(input: str) -> str:
    """The view a run registers an input's `rollup_input` under (see `register_inputs`)."""
    return f"rollup_input_{input}"


def spark_statements() -> list[str]:
    """Every statement a Spark run executes, unfiltered: what its fingerprint covers."""
    inputs = sorted({r.input for r in EVENT_ROLLUPS})
    return [
        *(render_input(SPARK, input=name) for name in inputs),
        *(render(r, SPARK, source=input_view(r.input)) for r in EVENT_ROLLUPS),
        *(d.sql for d in DERIVED),
    ]


# Rollups made by Spark are served by the embedded store only if both were rendered from
# the same definitions: the DuckDB fingerprint (refresh.DEFINITIONS) is part of this one.
SPARK_DEFINITIONS = hashlib.sha256(
    "\n".join([DEFINITIONS, *spark_statements()]).encode()
).hexdigest()[:16]


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> SparkSession:
    """A Spark session set up for the rollups (local mode on two cores by default)."""
    from pyspark.sql import SparkSession

    settings = {**SESSION_CONF, **(conf or {})}
    builder = SparkSession.builder.master(master or DEFAULT_MASTER).appName("creatorlens-rollups")
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    # A session that already existed keeps its static settings; the SQL ones must hold.
    for key, value in settings.items():
        if key.startswith("spark.sql."):
            session.conf.set(key, value)
    session.sparkContext.setLogLevel("ERROR")
    return session


def register_inputs(
    spark: SparkSession, *, days: Iterable[date] | None = None, cache: bool = True
) -> list[str]:
    """Compute each input's `rollup_input` once (cached) for all the rollups reading it,
    registered as `rollup_input_<input>`; with `days`, only its rows of those creator-local
    days, read from the events that can fall on them. Returns the views' names."""
    events_filter = None
    day_list = sorted(set(days)) if days is not None else None
    if day_list is not None:
        # An event's UTC date is within a day of any creator-local date it falls on.
        near = sorted({d.fromordinal(d.toordinal() + k) for d in day_list for k in (-1, 0, 1)})
        events_filter = "e.event_date IN (" + ", ".join(_date(d) for d in near) + ")"
    views = []
    for name in sorted({r.input for r in EVENT_ROLLUPS}):
        frame = spark.sql(render_input(SPARK, events_filter=events_filter, input=name))
        if day_list is not None:
            frame = frame.where(f"local_date IN ({', '.join(_date(d) for d in day_list)})")
        if cache:
            frame = frame.persist()
        frame.createOrReplaceTempView(input_view(name))
        views.append(input_view(name))
    return views


def event_rollup(
    spark: SparkSession, rollup: Rollup, *, view_threshold_ms: int = DEFAULT_VIEW_THRESHOLD_MS
) -> DataFrame:
    """Rollup `rollup` over its input as `register_inputs` registered it."""
    sql = render(rollup, SPARK, source=input_view(rollup.input))
    return spark.sql(sql, args=_arguments(sql, view_threshold_ms))


def derived_table(spark: SparkSession, table: DerivedTable) -> DataFrame:
    """A derived table over the registered relations and the rollups it reads."""
    return spark.sql(table.sql)


def _arguments(sql: str, view_threshold_ms: int) -> dict[str, object]:
    return {"view_threshold_ms": view_threshold_ms} if ":view_threshold_ms" in sql else {}


def _date(d: date) -> str:
    return f"DATE'{d.isoformat()}'"
