"""A canary viewer id in anonymous-class events must never reach the store, a log or a file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from creatorlens.ingest.pseudonym import pseudonym
from creatorlens.load import ingest_into
from creatorlens.store import key_ring
from tests.conftest import run_cli, synthetic_platform, write_platform

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


def test_no_stored_row_links_an_account_to_its_anonymous_pseudonym(tmp_path: Path) -> None:
    """u1 views, likes, comments on and shares v1: by plain SQL over every table of the
    store file, no row holding u1's id holds a pseudonym of its anonymous acts."""
    accounts = [
        {"account_id": a, "kind": k, "is_private": False, "timezone": "UTC",
         "analytics_opt_out": False, "created_at": "2024-01-01T00:00:00Z"}
        for a, k in (("c1", "creator"), ("u1", "personal"))
    ]  # fmt: skip
    videos = [{"video_id": "v1", "creator_id": "c1", "posted_at": "2026-10-01T00:00:00Z",
               "duration_ms": 15000}]  # fmt: skip
    base = {"actor_id": "u1", "video_id": "v1"}
    events = [
        {**base, "event_id": "f", "type": "follow", "ts": "2026-10-02T09:00:00Z",
         "target_id": "c1", "video_id": None},
        {**base, "event_id": "v", "type": "view", "ts": "2026-10-02T10:00:00Z",
         "watched_ms": 9000, "source": "for_you"},
        {**base, "event_id": "l", "type": "like", "ts": "2026-10-02T10:00:04Z"},
        {**base, "event_id": "c", "type": "comment", "ts": "2026-10-02T10:01:00Z",
         "comment_id": "k", "text": "hi"},
        {**base, "event_id": "s", "type": "share", "ts": "2026-10-02T10:02:00Z",
         "channel": "whatsapp"},
        {**base, "event_id": "p", "type": "profile_view", "ts": "2026-10-02T10:03:00Z",
         "target_id": "c1", "video_id": None},
        {**base, "event_id": "sv", "type": "save", "ts": "2026-10-02T10:04:00Z"},
    ]  # fmt: skip
    root = tmp_path / "p"
    root.mkdir()
    db = tmp_path / "store.duckdb"
    ingest_into(db, write_platform(root, accounts, videos, events))
    secret = key_ring(db).active().secret
    anonymous = {pseudonym(secret, "c1", "u1")}

    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = {
            p
            for (p,) in con.execute(
                "SELECT viewer_pid FROM events WHERE type IN "
                "('view', 'profile_view', 'share', 'save')"
            ).fetchall()
        }
        assert stored == anonymous
        # The like was still placed and the person counted once in the engaged audience.
        assert con.execute(
            "SELECT play_position_ms FROM events WHERE event_id = 'l'"
        ).fetchall() == [(4000,)]
        assert con.execute(
            "SELECT count(DISTINCT viewer_pid), sum(likes), sum(comments), sum(shares) "
            "FROM rollup_engaged_daily"
        ).fetchone() == (1, 1, 1, 1)
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
                "UNION SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary"
            ).fetchall()
        ]
        linked = []
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"').fetchall():
                # A list column (hashtags, say) counts by its items.
                items = [x for v in row for x in (v if isinstance(v, list) else [v])]
                values = {str(v) for v in items if v is not None}
                if "u1" in values and values & {str(a) for a in anonymous}:
                    linked.append((table, row))
        assert linked == []
        assert "rollup_audience_daily" in tables and "engagement_marks" in tables
    finally:
        con.close()
