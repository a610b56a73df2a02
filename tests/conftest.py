"""Shared fixtures: small platforms written by plain SQL, independent of the generator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def write_ndjson(path: Path, records: list[dict]) -> Path:
    """Write records one JSON object per line."""
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def write_platform(
    root: Path, accounts: list[dict], videos: list[dict], events: list[dict]
) -> list[Path]:
    """The three entity files of a small platform under `root`, in ingest order."""
    return [
        write_ndjson(root / "accounts.ndjson", accounts),
        write_ndjson(root / "videos.ndjson", videos),
        write_ndjson(root / "events.ndjson", events),
    ]


def synthetic_platform(out: Path, n_events: int, n_viewers: int = 5_000) -> dict[str, Path]:
    """Accounts, videos and a mix of events made with plain SQL (a few bad records included)."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (
            SELECT 'u' || i AS account_id,
                   CASE WHEN i < 20 THEN 'creator' ELSE 'personal' END AS kind,
                   i % 4 = 0 AS is_private,
                   1960 + i % 50 AS birth_year,
                   ['female', 'male', 'other'][1 + i % 3] AS gender,
                   ['US', 'BR', 'DE', 'IN'][1 + i % 4] AS country,
                   NULL AS city, 'en' AS language, 'UTC' AS timezone,
                   i % 31 = 0 AS analytics_opt_out,
                   '2024-01-01T00:00:00Z' AS created_at
            FROM range({n_viewers}) t(i)
        ) TO '{out}/accounts.ndjson' (FORMAT json)
        """
    )
    con.execute(
        f"""
        COPY (
            SELECT 'v' || i AS video_id, 'u' || (i % 20) AS creator_id,
                   '2026-09-01T00:00:00Z' AS posted_at, 10000 + i * 100 AS duration_ms,
                   'clip ' || i AS caption, ['fyp'] AS hashtags
            FROM range(200) t(i)
        ) TO '{out}/videos.ndjson' (FORMAT json)
        """
    )
    con.execute(
        f"""
        COPY (
            SELECT 'e' || lpad(i::VARCHAR, 9, '0') AS event_id,
                   CASE WHEN i % 997 = 0 THEN 'teleport'
                        ELSE ['view', 'view', 'view', 'view', 'like', 'share', 'save',
                              'profile_view', 'follow', 'comment'][1 + i % 10] END AS type,
                   strftime(TIMESTAMPTZ '2026-10-01 00:00:00+00' + INTERVAL (i) SECOND,
                            '%Y-%m-%dT%H:%M:%SZ') AS ts,
                   'u' || (i * 7919 % {n_viewers}) AS actor_id,
                   'v' || (i % 200) AS video_id,
                   CASE WHEN i % 10 < 4 THEN (i * 37 % 40000) END AS watched_ms,
                   CASE WHEN i % 10 < 4 THEN 'for_you' END AS source,
                   CASE WHEN i % 10 = 5 THEN 'copy_link' END AS channel,
                   CASE WHEN i % 10 IN (7, 8) THEN 'u' || (i % 20) END AS target_id,
                   CASE WHEN i % 10 = 9 THEN 'c' || i END AS comment_id,
                   CASE WHEN i % 10 = 9 THEN 'nice one' END AS text
            FROM range({n_events}) t(i)
        ) TO '{out}/events.ndjson' (FORMAT json)
        """
    )
    con.close()
    return {k: out / f"{k}.ndjson" for k in ("accounts", "videos", "events")}


def run_cli(*args: str, check: bool = False, columns: int = 200) -> subprocess.CompletedProcess:
    """Run the real `creatorlens` command in a subprocess (a terminal `columns` wide)."""
    env = dict(os.environ, COLUMNS=str(columns))
    proc = subprocess.run(
        [sys.executable, "-m", "creatorlens", *args], capture_output=True, text=True, env=env
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"creatorlens {args} failed: {proc.stderr}")
    return proc


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
