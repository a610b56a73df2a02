"""Exactly once across crashes: kill -9 mid-ingest, rerun, and the store equals a clean run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.conftest import synthetic_platform

N_EVENTS = 200_000
BATCH = "10000"

SNAPSHOT = {
    "events": "SELECT * EXCLUDE (ingested_at) FROM events ORDER BY event_id",
    "quarantine": "SELECT quarantine_id, entity, record_no, event_id, field, reason, record "
    "FROM quarantine ORDER BY quarantine_id",
    "accounts": "SELECT * EXCLUDE (updated_at) FROM accounts ORDER BY account_id",
    "videos": "SELECT * EXCLUDE (updated_at) FROM videos ORDER BY video_id",
    "follow_log": "SELECT * FROM follow_log ORDER BY ALL",
}


def ingest_cmd(files: dict[str, Path], db: Path, keys: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "creatorlens",
        "ingest",
        *map(str, files.values()),
        "--db",
        str(db),
        "--keys",
        str(keys),
        "--batch-rows",
        BATCH,
    ]


def snapshot(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in SNAPSHOT.items()}
    finally:
        con.close()


def test_sigkill_mid_ingest_then_rerun_equals_a_clean_run(tmp_path: Path) -> None:
    files = synthetic_platform(tmp_path / "p", N_EVENTS)
    keys = tmp_path / "instance.keys"

    clean_db = tmp_path / "clean.duckdb"
    started = time.monotonic()
    subprocess.run(ingest_cmd(files, clean_db, keys), check=True, capture_output=True)
    clean_seconds = time.monotonic() - started
    expected = snapshot(clean_db)
    assert len(expected["events"]) == N_EVENTS - len(range(0, N_EVENTS, 997))

    crashed_db = tmp_path / "crashed.duckdb"
    kills = 0
    for fraction in (0.45, 0.7, 0.9):
        proc = subprocess.Popen(
            ingest_cmd(files, crashed_db, keys),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(clean_seconds * fraction)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 1, "ingest finished before it could be killed"
    # The store may be anywhere between empty and complete; the rerun finishes the job.
    subprocess.run(ingest_cmd(files, crashed_db, keys), check=True, capture_output=True)
    assert snapshot(crashed_db) == expected

    # And a third run over a finished store changes nothing.
    copy = tmp_path / "again.duckdb"
    shutil.copy(crashed_db, copy)
    subprocess.run(ingest_cmd(files, copy, keys), check=True, capture_output=True)
    assert snapshot(copy) == expected
