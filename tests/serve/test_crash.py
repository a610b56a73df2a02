"""kill -9 of the server while the collector is loaded, then a restart and the client's
retries: every event is stored exactly once."""

from __future__ import annotations

import threading
import time

import duckdb
import httpx

from tests.serve.conftest import Server, create_token
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

    acknowledged: set[int] = set()
    counted = {"accepted": 0, "duplicates": 0}

    def load(numbers) -> None:
        """Post batches from four connections at once; note those the server answered."""
        lock = threading.Lock()
        queue = list(numbers)

        def worker() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as c:
                while True:
                    with lock:
                        if not queue:
                            return
                        b = queue.pop(0)
                    try:
                        r = c.post(
                            "/v1/events", json=batch(b), headers={"Authorization": f"Bearer {key}"}
                        )
                    except httpx.HTTPError:
                        continue  # the server is gone: this batch is retried later
                    if r.status_code == 200:
                        with lock:
                            acknowledged.add(b)
                            counted["accepted"] += r.json()["accepted"]
                            counted["duplicates"] += r.json()["duplicates"]

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        return threads

    threads = load(range(BATCHES))
    while len(acknowledged) < 10:
        time.sleep(0.01)
    server.kill()  # mid-load: batches in flight, queued, half written
    for t in threads:
        t.join()
    assert 10 <= len(acknowledged) < BATCHES

    # Restart on the same store; the client sends again every batch it has no answer
    # for, and (to be sure) some that were answered too.
    server.start()
    retry = sorted(set(range(BATCHES)) - acknowledged) + sorted(acknowledged)[:5]
    for t in load(retry):
        t.join()
    assert acknowledged == set(range(BATCHES))
    expected = BATCHES * BATCH
    # What the answers said: each event accepted once, however often it was sent (an
    # event stored just before the kill, whose answer was lost, comes back a duplicate).
    assert counted["accepted"] <= expected
    assert counted["accepted"] + counted["duplicates"] >= expected

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
