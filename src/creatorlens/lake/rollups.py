"""Running the rollups on Spark over the lake, by creator-local day, into Parquet.

A run reads the lake's current version (the files each Delta table names, so a write in
progress is never half seen), registers each table as the relation the rollup SQL reads,
and writes every rollup under `out/<table>/`, partitioned by `local_date`. The next run
recomputes only the days its new files can touch: a file added or removed since the last
run (an append, a replaced date, a compaction) marks its UTC date, and every creator-local
date within a day of it is recomputed whole and its partition replaced. The derived tables
(viewer days, follower spans, liker accounts) are recomputed whole from the rollups just
written, which are far smaller than the events. A changed time zone or video duration,
changed definitions or view threshold, or a rewrite that touches every date, recomputes
everything, as the embedded refresh does. `out/_state.json` holds what the last run read.

The small tables serving needs beside the rollups (accounts, videos, follows, ...) are
copied to `out/_tables/`, so `load_rollups` reads one folder.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from deltalake import DeltaTable

from creatorlens.errors import UserError
from creatorlens.lake.tables import (
    LAKE_TABLES,
    PARTITIONED,
    SNAPSHOTS,
    lake_snapshot,
    partition_date,
)
from creatorlens.rollup.refresh import DEFAULT_VIEW_THRESHOLD_MS
from creatorlens.rollup.spark import (
    BY_DAY,
    DERIVED,
    EVENT_ROLLUPS,
    SPARK_DEFINITIONS,
    derived_table,
    event_rollup,
    register_inputs,
    spark_session,
)

Progress = Callable[[str, int, int], None]

STATE_FILE = "_state.json"
TABLES_DIR = "_tables"


@dataclass
class SparkSummary:
    """What one Spark run did."""

    mode: str  # "full", "incremental" or "unchanged"
    reason: str
    master: str
    events: int = 0  # events in the lake version read
    days: list[date] = field(default_factory=list)  # creator-local days recomputed
    seconds: float = 0.0


def run_spark_rollups(
    lake: str | Path,
    out: str | Path,
    *,
    master: str | None = None,
    view_threshold_ms: int = DEFAULT_VIEW_THRESHOLD_MS,
    full: bool = False,
    conf: dict[str, str] | None = None,
    spark=None,
    progress: Progress | None = None,
) -> SparkSummary:
    """Bring the Parquet rollups under `out` up to date with the lake, on Spark (a session
    of its own on `master`, stopped at the end, unless a session `spark` is given)."""
    started = time.perf_counter()
    lake, out = Path(lake), Path(out)
    files = lake_snapshot(lake)
    if not files["events"]:
        raise UserError(f"{lake}: no events in this lake (write some with --lake or export)")
    state = _read_state(out)
    own = spark is None
    if own:
        spark = spark_session(master, conf)
    summary = SparkSummary("full", "", spark.sparkContext.master)
    try:
        _register(spark, lake, files)
        summary.events = _lake_events(lake)
        zones = _zones_digest(spark)
        reason = "requested" if full else _rebuild_reason(state, view_threshold_ms, zones)
        days: list[date] | None = None
        if not reason:
            touched = _touched_dates(state["files"], files)
            if not touched:
                summary.mode, summary.reason = "unchanged", "no new lake files"
            else:
                known = {date.fromisoformat(d) for d in state["dates"]}
                if known and known <= set(touched):
                    reason = "every date rewritten"
                else:
                    days = _local_days(touched)
        if summary.mode != "unchanged":
            summary.mode = "full" if days is None else "incremental"
            summary.reason = reason
            summary.days = days or []
            _write_rollups(spark, out, files, days, view_threshold_ms, progress)
        all_dates = sorted({d for t in PARTITIONED for d in _dates(files[t.name])})
        _write_state(
            out,
            {
                "definitions": SPARK_DEFINITIONS,
                "view_threshold_ms": view_threshold_ms,
                "zones": zones,
                "files": {t.name: files[t.name] for t in PARTITIONED},
                "dates": all_dates,
            },
        )
    finally:
        if own:
            spark.stop()
    summary.seconds = time.perf_counter() - started
    return summary


def _register(spark, lake: Path, files: dict[str, list[str]]) -> None:
    """Each lake table as a temp view of its current files (an empty one with its schema)."""
    from pyspark.sql.types import StructType

    for table in LAKE_TABLES:
        path = table.path(lake)
        schema = StructType.fromJson(json.loads(DeltaTable(str(path)).schema().to_json()))
        if files[table.name]:
            reader = spark.read.schema(schema).option("basePath", str(path))
            frame = reader.parquet(*files[table.name])
        else:
            frame = spark.createDataFrame([], schema)
        frame.createOrReplaceTempView(table.name)


def _lake_events(lake: Path) -> int:
    """Events in the lake's current version, from the Delta log's per-file record counts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    actions = pa.table(DeltaTable(str(lake / "events")).get_add_actions(flatten=True))
    return int(pc.sum(actions.column("num_records")).as_py() or 0)


def _zones_digest(spark) -> list[int]:
    """What the rollups' day boundaries and per-video figures depend on besides events:
    each creator's time zone and each video's duration (order-free digests)."""
    row = spark.sql(
        """SELECT (SELECT coalesce(bit_xor(xxhash64(account_id, timezone)), 0) FROM accounts),
                  (SELECT coalesce(bit_xor(xxhash64(video_id, duration_ms)), 0) FROM videos)"""
    ).first()
    return [int(row[0]), int(row[1])]


def _rebuild_reason(state: dict | None, view_threshold_ms: int, zones: list[int]) -> str:
    if state is None:
        return "first run"
    if state["definitions"] != SPARK_DEFINITIONS:
        return "rollup definitions changed"
    if state["view_threshold_ms"] != view_threshold_ms:
        return f"view threshold changed from {state['view_threshold_ms']} to {view_threshold_ms} ms"
    if state["zones"] != zones:
        return "a creator's time zone or a video's duration changed"
    return ""


def _touched_dates(before: dict[str, list[str]], now: dict[str, list[str]]) -> list[date]:
    """The UTC dates of every partitioned table's files added or removed since `before`."""
    changed: set[date] = set()
    for table in PARTITIONED:
        old, new = set(before.get(table.name, [])), set(now[table.name])
        changed |= set(_dates(old ^ new))
    return sorted(changed)


def _dates(uris) -> list[date]:
    return [date.fromisoformat(d) for d in {partition_date(u) for u in uris} if d]


def _local_days(utc_dates: list[date]) -> list[date]:
    """The creator-local days events of these UTC dates can fall on (offsets are within
    -12 h and +14 h)."""
    return sorted({date.fromordinal(d.toordinal() + k) for d in utc_dates for k in (-1, 0, 1)})


def _write_rollups(
    spark, out: Path, files: dict[str, list[str]], days: list[date] | None, threshold: int, progress
) -> None:
    steps = len(EVENT_ROLLUPS) + len(DERIVED) + len(SNAPSHOTS)
    done = 0
    inputs = register_inputs(spark, days=days)
    schemas = {}
    for rollup in EVENT_ROLLUPS:
        frame = event_rollup(spark, rollup, view_threshold_ms=threshold)
        schemas[rollup.name] = _read_back_schema(frame.schema, "local_date")
        path = out / rollup.name
        # A full run replaces the table (static overwrite); an incremental one its days.
        mode = "static" if days is None else "dynamic"
        frame.write.mode("overwrite").option("partitionOverwriteMode", mode).partitionBy(
            "local_date"
        ).parquet(str(path))
        done += 1
        _report(progress, rollup.name, done, steps)
    for view in inputs:
        spark.catalog.uncacheTable(view)
    read_back = {name for table in DERIVED for name in table.reads}
    for name in BY_DAY:
        # With its schema: a rollup with no rows (no LIVE on the platform) has no files.
        frame = spark.read.schema(schemas[name]).parquet(str(out / name))
        (frame.persist() if name in read_back else frame).createOrReplaceTempView(name)
    for table in DERIVED:
        derived_table(spark, table).write.mode("overwrite").parquet(str(out / table.name))
        frame = spark.read.parquet(str(out / table.name))
        (frame.persist() if table.name in read_back else frame).createOrReplaceTempView(table.name)
        done += 1
        _report(progress, table.name, done, steps)
    for table in SNAPSHOTS:
        _copy_snapshot(files[table.name], out / TABLES_DIR / table.name)
        done += 1
        _report(progress, table.name, done, steps)


def _read_back_schema(schema, partition: str):
    """The schema Spark reads a table written partitioned by `partition` back with: the
    partition column last."""
    from pyspark.sql.types import StructType

    fields = [f for f in schema.fields if f.name != partition]
    return StructType(fields + [f for f in schema.fields if f.name == partition])


def _copy_snapshot(uris: list[str], folder: Path) -> None:
    """Copy a small table's current Parquet files as they are: no job needed to serve them."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for i, uri in enumerate(uris):
        shutil.copyfile(uri.removeprefix("file://"), folder / f"part-{i:05}.parquet")


def _read_state(out: Path) -> dict | None:
    path = out / STATE_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def _write_state(out: Path, state: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, default=str))
    tmp.replace(out / STATE_FILE)


def _report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


__all__ = ["SparkSummary", "run_spark_rollups"]
