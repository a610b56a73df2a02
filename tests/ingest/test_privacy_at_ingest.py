"""A canary viewer id in anonymous-class events must never reach the store, a log or a file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from tests.conftest import run_cli, synthetic_platform

CANARY = "CANARY-viewer-7f3a9c"


def canary_events(n_filler: int) -> list[dict]:
    """Good and bad view, profile_view, share and save events of the canary viewer."""
    ts = "2026-10-02T10:00:00Z"
    good = [
        {
            "event_id": "k1",
            "type": "view",
            "ts": ts,
            "actor_id": CANARY,
            "video_id": "v1",
            "watched_ms": 5000,
            "source": "for_you",
        },
        {"event_id": "k2", "type": "profile_view", "ts": ts, "actor_id": CANARY, "target_id": "u1"},
        {
            "event_id": "k3",
            "type": "share",
            "ts": ts,
            "actor_id": CANARY,
            "video_id": "v1",
            "channel": "whatsapp",
        },
        {"event_id": "k4", "type": "save", "ts": ts, "actor_id": CANARY, "video_id": "v2"},
    ]
    bad = [
        {
            "event_id": "k5",
            "type": "view",
            "ts": ts,
            "actor_id": CANARY,
            "video_id": "v1",
            "watched_ms": "??",
            "source": "for_you",
        },
        {
            "event_id": "k6",
            "type": "share",
            "ts": "yesterday",
            "actor_id": CANARY,
            "video_id": "v1",
            "channel": "whatsapp",
        },
        {"event_id": "k7", "type": "save", "ts": ts, "actor_id": CANARY, "video_id": "nope"},
        {"event_id": "k8", "type": "profile_view", "ts": ts, "actor_id": CANARY},
    ]
    return good + bad


def test_canary_viewer_id_appears_nowhere(tmp_path: Path) -> None:
    files = synthetic_platform(tmp_path / "p", 20_000)
    events = tmp_path / "p" / "events-canary.ndjson"
    with events.open("w") as f:
        for record in canary_events(0):
            f.write(json.dumps(record) + "\n")
        f.write(files["events"].read_text())
    db = tmp_path / "store.duckdb"

    outputs = []
    proc = run_cli(
        "ingest",
        str(files["accounts"]),
        str(files["videos"]),
        str(events),
        "--db",
        str(db),
        check=True,
    )
    outputs += [proc.stdout, proc.stderr]
    proc = run_cli("ingest", str(events), "--db", str(db), check=True)  # a re-send
    outputs += [proc.stdout, proc.stderr]
    proc = run_cli("quarantine", "--db", str(db), "--limit", "1000", check=True)
    outputs += [proc.stdout, proc.stderr]

    con = duckdb.connect(str(db), read_only=True)
    stored = dict(
        con.execute(
            "SELECT event_id, viewer_pid FROM events WHERE event_id IN ('k1','k2','k3','k4')"
        ).fetchall()
    )
    assert sorted(stored) == ["k1", "k2", "k3", "k4"]
    assert all(pid is not None for pid in stored.values())
    quarantined = {r[0] for r in con.execute("SELECT event_id FROM quarantine").fetchall()}
    assert {"k5", "k6", "k7", "k8"} <= quarantined
    # Every text value of every table, searched for the canary.
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
        hits = con.execute(
            f"SELECT count(*) FROM {table} t WHERE contains(CAST(t AS VARCHAR), ?)", [CANARY]
        ).fetchone()[0]
        assert hits == 0, f"canary found in table {table}"
    con.close()

    for text in outputs:
        assert CANARY not in text
    assert "Quarantined" in outputs[0]  # the summary was printed
    for path in tmp_path.rglob("store.duckdb*"):
        assert CANARY.encode() not in path.read_bytes(), f"canary in the bytes of {path.name}"
