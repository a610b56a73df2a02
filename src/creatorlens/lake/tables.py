"""What the lake holds: one Delta table per store table the rollups read, and how to list
the Parquet files of its current version.

The events and the two tables ingest derives from them (`engagement_marks`,
`follower_plays`) are partitioned by the UTC date of their `ts` (`event_date`) and only
ever gain rows or have whole dates replaced; the small tables beside them (accounts,
videos, follows, ...) are replaced whole by each export.

Pseudonyms are unsigned 64-bit in the store. Delta has no unsigned integers, and Spark reads
an unsigned Parquet column as DECIMAL(20,0), which it keeps as a Java BigDecimal per value:
grouping by it made the per-viewer rollups several times slower. The lake keeps each
pseudonym shifted down by 2^63 into a signed BIGINT (`lake_pid`), a bijection that keeps
order, and serving shifts it back (`store_pid`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deltalake import DeltaTable

EVENT_DATE = "event_date"


@dataclass(frozen=True)
class LakeTable:
    """A store table as the lake keeps it: the SELECT that reads it from the store, and
    whether it is partitioned by event date (else replaced whole)."""

    name: str
    select: str
    partitioned: bool

    def path(self, lake: str | Path) -> Path:
        return Path(lake) / self.name


PID_SHIFT = 2**63


def lake_pid(column: str) -> str:
    """DuckDB SQL: a store pseudonym (UBIGINT) as the lake keeps it (BIGINT)."""
    return f"CAST(CAST({column} AS HUGEINT) - {PID_SHIFT} AS BIGINT)"


def store_pid(column: str) -> str:
    """DuckDB SQL: a lake pseudonym (BIGINT) back as the store keeps it (UBIGINT)."""
    return f"CAST(CAST({column} AS HUGEINT) + {PID_SHIFT} AS UBIGINT)"


def _partitioned(name: str, pid: str | None) -> LakeTable:
    replaced = f" REPLACE ({lake_pid(pid)} AS {pid})" if pid else ""
    return LakeTable(
        name, f"SELECT *{replaced}, CAST(ts AS DATE) AS {EVENT_DATE} FROM {name}", True
    )


EVENTS = _partitioned("events", "viewer_pid")
ENGAGEMENT_MARKS = _partitioned("engagement_marks", "viewer_pid")
FOLLOWER_PLAYS = _partitioned("follower_plays", "follower_pid")
PARTITIONED = (EVENTS, ENGAGEMENT_MARKS, FOLLOWER_PLAYS)
# Replaced whole: the rollups join them (accounts, videos, actor_profiles), the follower
# spans are computed from them (follow_log, account_history), and serving reads them.
SNAPSHOTS = tuple(
    LakeTable(name, f"SELECT * FROM {name}", False)
    for name in ("accounts", "account_history", "videos", "actor_profiles", "follow_log", "lives")
)
LAKE_TABLES: tuple[LakeTable, ...] = (*SNAPSHOTS, *PARTITIONED)
BY_NAME = {t.name: t for t in LAKE_TABLES}


def open_table(lake: str | Path, name: str) -> DeltaTable | None:
    """The lake's Delta table `name` at its latest version (None: not written yet)."""
    path = BY_NAME[name].path(lake)
    if not DeltaTable.is_deltatable(str(path)):
        return None
    return DeltaTable(str(path))


def lake_files(lake: str | Path, name: str) -> list[str]:
    """The Parquet files of table `name`'s latest version: the rows it holds, no more."""
    table = open_table(lake, name)
    return [] if table is None else sorted(table.file_uris())


def lake_snapshot(lake: str | Path) -> dict[str, list[str]]:
    """Every table's current files (what one consistent read of the lake reads)."""
    return {t.name: lake_files(lake, t.name) for t in LAKE_TABLES}


def partition_date(uri: str) -> str | None:
    """The `event_date` of a partitioned table's file, from its hive-style path."""
    for part in uri.split("/"):
        if part.startswith(EVENT_DATE + "="):
            return part.split("=", 1)[1]
    return None
