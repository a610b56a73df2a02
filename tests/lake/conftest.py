"""Shared helpers of the lake tests: a generated platform, its embedded store, the report
of every creator as JSON, and a table-by-table comparison of two stores' rollups."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from creatorlens.generate import generate_platform
from creatorlens.load import ingest_into
from creatorlens.rollup.spark import OUTPUT_COLUMNS
from creatorlens.studio import open_studio


def generated_store(root: Path, *, events: int, creators: int, viewers: int, days: int) -> Path:
    """A generated platform ingested into a DuckDB store with its rollups refreshed (the
    embedded path, which the Spark path is checked against)."""
    files = root / "platform"
    generate_platform(
        files, creators=creators, viewers=viewers, days=days, seed=11, events=events,
        fmt="parquet",
    )  # fmt: skip
    db = root / "duck.duckdb"
    ingest_into(db, [files])
    return db


def stored_events(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM events").fetchone()[0]


def creators_of(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT account_id FROM accounts WHERE kind IN ('creator', 'business') ORDER BY 1"
        ).fetchall()
    return [c for (c,) in rows]


def creator_reports(db: Path, creators: list[str], period: str = "28d") -> dict[str, str]:
    """Each creator's dashboard as `report --json` prints it, with the previous period."""
    out = {}
    for creator in creators:
        with open_studio(db, creator) as studio:
            board = studio.dashboard(studio.period(period), compare=True, detail_videos=3)
            out[creator] = json.dumps(board.to_json(), sort_keys=True, default=str)
    return out


def differing_rollups(a: Path, b: Path) -> dict[str, tuple[int, int]]:
    """The rollup tables whose rows differ between two stores: (rows only in a, only in b)."""
    differ = {}
    with duckdb.connect(str(a), read_only=True) as con:
        con.execute(f"ATTACH '{b}' AS other (READ_ONLY)")
        for table in OUTPUT_COLUMNS:
            only_a, only_b = con.execute(
                f"""SELECT (SELECT count(*) FROM (FROM {table} EXCEPT ALL FROM other.{table})),
                           (SELECT count(*) FROM (FROM other.{table} EXCEPT ALL FROM {table}))"""
            ).fetchone()
            if only_a or only_b:
                differ[table] = (only_a, only_b)
    return differ


def keys_of(db: Path) -> Path:
    return db.with_name(db.name + ".keys")
