"""Serving Spark-made rollups: their Parquet loaded into a DuckDB store the runner reads.

The store `load_rollups` fills holds the rollups and the small tables the runner and the
privacy layer read beside them (accounts, videos, follows), and no events: `report`,
`serve` and the rest read it through the same runner and release stage as a store that
ingested the events itself. Its rollup state says the rollups are current and were made
by the definitions in force, so opening it for writing does not rebuild them from the
(absent) events; Parquet made from other definitions is refused.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from creatorlens.errors import UserError
from creatorlens.lake.rollups import STATE_FILE, TABLES_DIR
from creatorlens.lake.tables import SNAPSHOTS, store_pid
from creatorlens.load import ROLLUP_MEMORY_LIMIT
from creatorlens.rollup.definitions import Column
from creatorlens.rollup.refresh import DEFINITIONS, ROW_ORDER, create_rollup_tables
from creatorlens.rollup.spark import OUTPUT_COLUMNS, SPARK_DEFINITIONS
from creatorlens.store import Store


@dataclass
class LoadSummary:
    """What one load did: rows per table."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def load_rollups(
    source: str | Path, db: str | Path, *, keys: str | Path | None = None
) -> LoadSummary:
    """Replace the rollups (and the tables served beside them) of the store at `db`,
    creating it if needed, with the Parquet a Spark run wrote under `source`, in one
    transaction."""
    started = time.perf_counter()
    source = Path(source)
    state_path = source / STATE_FILE
    if not state_path.is_file():
        raise UserError(
            f"{source}: no Spark rollups here (run `creatorlens rollup --engine spark`)"
        )
    state = json.loads(state_path.read_text())
    if state.get("definitions") != SPARK_DEFINITIONS:
        raise UserError(
            f"{source}: made by other rollup definitions; run `creatorlens rollup --engine "
            "spark` again with this version"
        )
    summary = LoadSummary()
    with Store.open(db, keys=keys) as store:
        con = store.con
        if con.execute("SELECT count(*) FROM events").fetchone()[0]:
            raise UserError(
                f"{db}: this store ingests events itself; load Spark's rollups into a store "
                "of their own"
            )
        # The largest rollups are written ordered, which needs more than a batch of ingest
        # (the store cannot spill: see load.ingest_into).
        con.execute(f"SET memory_limit = '{ROLLUP_MEMORY_LIMIT}'")
        create_rollup_tables(con)
        con.execute("BEGIN TRANSACTION")
        try:
            for table in SNAPSHOTS:
                summary.rows[table.name] = _replace(
                    con, table.name, source / TABLES_DIR / table.name, None
                )
            for name, columns in OUTPUT_COLUMNS.items():
                cast = ", ".join(_stored(c) for c in columns)
                summary.rows[name] = _replace(con, name, source / name, cast)
            _record_state(con, state["view_threshold_ms"])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    summary.seconds = time.perf_counter() - started
    return summary


def _stored(column: Column) -> str:
    """A Spark output column as the store types it (pseudonyms shifted back, lake.tables)."""
    if column.type == "UBIGINT":
        return f"{store_pid(column.name)} AS {column.name}"
    return f"CAST({column.name} AS {column.type}) AS {column.name}"


def _replace(con, table: str, folder: Path, cast: str | None) -> int:
    """Replace `table`'s rows with the Parquet files under `folder` (hive-partitioned),
    each column cast to the store's type, in the order the embedded refresh writes."""
    con.execute(f"DELETE FROM {table}")
    if not any(folder.rglob("*.parquet")):
        return 0  # Spark writes no file for an empty result
    files = f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"
    if cast is None:
        sql = f"INSERT INTO {table} BY NAME SELECT * FROM {files}"
    else:
        order = ROW_ORDER.get(table, "creator_id, local_date")
        sql = f"INSERT INTO {table} SELECT {cast} FROM {files} ORDER BY {order}"
    return con.execute(sql).fetchone()[0]


def _record_state(con, view_threshold_ms: int) -> None:
    """The rollup state of a store whose rollups are complete and hold no events of its own:
    the embedded refresh then finds nothing to do (`rollup.refresh`)."""
    con.execute("DELETE FROM rollup_state")
    con.execute(
        "INSERT INTO rollup_state VALUES ($threshold, $definitions, NULL, 0, now())",
        {"threshold": view_threshold_ms, "definitions": DEFINITIONS},
    )
    con.execute("DELETE FROM rollup_zones")
    con.execute("INSERT INTO rollup_zones SELECT account_id, timezone FROM accounts")
    con.execute("DELETE FROM rollup_durations")
    con.execute("INSERT INTO rollup_durations SELECT video_id, duration_ms FROM videos")
    con.execute("DELETE FROM rollup_spans_state")
    con.execute(
        "INSERT INTO rollup_spans_state SELECT (SELECT count(*) FROM follow_log), "
        "(SELECT count(*) FROM account_history)"
    )
    con.execute("DELETE FROM privacy_changes")
