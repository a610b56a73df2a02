"""A lake write killed half way (kill -9), then run again: every event is in the lake once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from creatorlens.lake import lake_files
from creatorlens.load import ingest_into
from tests.conftest import REPO, synthetic_platform


def _lake_events(lake: Path) -> tuple[int, int]:
    """(events, distinct event ids) in the lake's current version."""
    files = lake_files(lake, "events")
    if not files:
        return 0, 0
    with duckdb.connect() as con:
        return con.execute(
            f"SELECT count(*), count(DISTINCT event_id) FROM read_parquet({files!r})"
        ).fetchone()


def _export(db: Path, lake: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "creatorlens", "export", "--db", str(db), "--lake", str(lake),
         "--chunk-events", "2000"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def test_kill_9_during_a_lake_write_then_rerun_holds_each_event_once(tmp_path: Path) -> None:
    files = synthetic_platform(tmp_path / "platform", 60_000)
    db = tmp_path / "store.duckdb"
    ingest_into(db, [files["accounts"], files["videos"], files["events"]], refresh=False)
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM events").fetchone()[0]
    lake = tmp_path / "lake"

    writer = _export(db, lake)
    log = lake / "events" / "_delta_log"
    deadline = time.monotonic() + 120
    # Killed once a few event commits have landed, while later ones are being written.
    while writer.poll() is None and time.monotonic() < deadline:
        if log.is_dir() and len(list(log.glob("*.json"))) >= 3:
            break
        time.sleep(0.01)
    assert writer.poll() is None, writer.stderr.read().decode()
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()

    events, distinct = _lake_events(lake)
    assert 0 < events < stored  # half way: some commits in, the rest not
    assert events == distinct
    # Files written for a commit that never landed are on disk but in no version.
    on_disk = {str(p) for p in (lake / "events").rglob("*.parquet")}
    assert set(lake_files(lake, "events")) <= on_disk

    rerun = _export(db, lake)
    assert rerun.wait(timeout=300) == 0, rerun.stderr.read().decode()
    assert _lake_events(lake) == (stored, stored)
    with duckdb.connect(str(db), read_only=True) as con:
        missing = con.execute(
            f"""SELECT count(*) FROM events
                WHERE event_id NOT IN (SELECT event_id FROM read_parquet(
                    {lake_files(lake, "events")!r}))"""
        ).fetchone()[0]
    assert missing == 0

    # And once more: nothing to add.
    again = _export(db, lake)
    assert again.wait(timeout=300) == 0
    assert _lake_events(lake) == (stored, stored)
