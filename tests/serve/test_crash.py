"""kill -9 of the server while the collector is loaded, then a restart and the client's
retries: every event is stored exactly once."""

from __future__ import annotations

import time

import duckdb

from tests.serve.conftest import Server, create_token, kill_mid_load_then_resend
from tests.serve.test_collector import ACCOUNTS, CREATOR, VIDEO, VIDEOS

BATCHES = 60
BATCH = 500


def batch(b: int) -> list[dict]:
    return [
        {"event_id": f"k{b:03d}-{i:04d}", "type": "view", "ts": f"2026-11-02T{b % 24:02d}:00:00Z",
         "actor_id": ("va", "vb", "vc", "vd")[i % 4], "video_id": VIDEO,
         "watched_ms": 1_000 + i, "source": "for_you"}
        for i in range(BATCH)
    ]  # fmt: skip


def test_kill_9_under_load_then_retries_store_every_event_once(tmp_path, server_factory):
    db = tmp_path / "store.duckdb"
    server: Server = server_factory(db)
    key = create_token(db, "--ingest")
    creator = create_token(db, "--creator", CREATOR)
    with server.client(key) as client:
        assert client.post("/v1/accounts", json=ACCOUNTS).status_code == 200
        assert client.post("/v1/videos", json=VIDEOS).status_code == 200

    # Killed mid-load; restarted on the same store, the client sends again every batch
    # it has no answer for, and (to be sure) some that were answered too.
    acknowledged, answered = kill_mid_load_then_resend(server, key, batch, BATCHES)
    assert 10 <= len(acknowledged) < BATCHES
    assert {b for b, _ in answered} == set(range(BATCHES))
    expected = BATCHES * BATCH
    # What the answers said: each event accepted once, however often it was sent (an
    # event stored just before the kill, whose answer was lost, comes back a duplicate).
    accepted = sum(a["accepted"] for _, a in answered)
    duplicates = sum(a["duplicates"] for _, a in answered)
    assert accepted <= expected
    assert accepted + duplicates >= expected

    sent = time.time()
    server.wait_fresh(sent)
    with server.client(creator) as studio:
        plays = studio.post(
            "/v1/query", json={"metrics": ["plays"], "from": "2026-11-02", "to": "2026-11-02"}
        ).json()["totals"]["plays"]
    assert plays == expected
    server.stop()
    con = duckdb.connect(str(db), read_only=True)
    stored, distinct = con.execute(
        "SELECT count(*), count(DISTINCT event_id) FROM events WHERE event_id LIKE 'k%'"
    ).fetchone()
    con.close()
    assert stored == distinct == expected
