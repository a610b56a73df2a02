"""LIVE stream and notifications benchmark: `.venv/bin/python bench/live.py`.

1. A real server on loopback; 1,000 LIVE viewers join and leave in batches posted to the
   collector while one client reads the creator's stream: the latency from each post's
   answer to the first stream update showing it, p50/p95.
2. A creator with 100,000 likes (and their follows and comments): a notifications page
   (names by the likers rule included), p50/p95, against a raw scan of the events grouping
   the same notifications, measured in the same run.
"""

from __future__ import annotations

import json
import queue
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# bench/http.py would shadow the standard library's http: this folder goes off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import httpx  # noqa: E402

from creatorlens.load import ingest_into  # noqa: E402
from creatorlens.notify import notification_page, refresh_notifications  # noqa: E402
from creatorlens.store import Store  # noqa: E402
from tests.conftest import write_platform  # noqa: E402
from tests.live.conftest import account  # noqa: E402
from tests.serve.conftest import Server, create_token  # noqa: E402

VIEWERS = 1_000
LIKES = 100_000


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def stream_bench(root: Path) -> None:
    accounts = [account("host", kind="creator")] + [
        account(f"v{i}", is_private=i % 7 == 0) for i in range(VIEWERS)
    ]
    videos = [{"video_id": "hv", "creator_id": "host", "posted_at": "2026-01-01T00:00:00Z",
               "duration_ms": 10000}]  # fmt: skip
    db = root / "stream.duckdb"
    ingest_into(db, write_platform(root, accounts, videos, [])[:2])
    ingest, creator = create_token(db, "--ingest"), create_token(db, "--creator", "host")
    server = Server(db).start()
    try:
        api = server.client(ingest)

        def ev(n: str, type_: str, actor: str) -> dict:
            ts = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            return {"event_id": n, "type": type_, "ts": ts, "actor_id": actor, "live_id": "B1"}

        api.post("/v1/events", json=[ev("s", "live_start", "host")]).raise_for_status()
        updates: queue.Queue = queue.Queue()

        def read() -> None:
            stream = c.stream("GET", "/v1/creators/host/live/stream", params={"max_seconds": 600})
            try:
                with stream as r:
                    for line in r.iter_lines():
                        if line.startswith("data: "):
                            body = json.loads(line[6:])
                            run = body["running"]
                            at = run[0]["unique_viewers"] if run else -1
                            updates.put((time.monotonic(), at))
            except httpx.HTTPError:  # the server stopped at the end of the run
                pass

        c = server.client(creator)

        threading.Thread(target=read, daemon=True).start()
        updates.get(timeout=30)
        latencies = []
        batch = 20
        for k in range(0, VIEWERS, batch):
            joins = [ev(f"j{i}", "live_join", f"v{i}") for i in range(k, k + batch)]
            leaves = [ev(f"l{i}", "live_leave", f"v{i}") for i in range(k - batch, k) if i >= 0
                      and i % 3 == 0]  # fmt: skip
            api.post("/v1/events", json=joins + leaves).raise_for_status()
            answered = time.monotonic()
            while True:
                at, uniques = updates.get(timeout=30)
                if uniques >= k + batch:
                    latencies.append(at - answered)
                    break
        print(
            f"stream, {VIEWERS:,} viewers joining/leaving in {len(latencies)} posts: update "
            f"p50 {p(latencies, 50) * 1000:.0f} ms, p95 {p(latencies, 95) * 1000:.0f} ms"
        )
    finally:
        server.stop()


def notifications_bench(root: Path) -> None:
    db = root / "likes.duckdb"
    n_acc = 20_000
    accounts = [account("star", kind="creator")] + [
        account(f"u{i}", is_private=i % 5 == 0) for i in range(n_acc)
    ]
    videos = [{"video_id": f"sv{v}", "creator_id": "star", "posted_at": "2026-01-01T00:00:00Z",
               "duration_ms": 10000} for v in range(50)]  # fmt: skip
    start = datetime(2026, 3, 1, tzinfo=UTC)
    events = [
        {"event_id": f"k{i}", "type": "like",
         "ts": (start + timedelta(seconds=i * 30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "actor_id": f"u{(i * 7919) % n_acc}", "video_id": f"sv{i % 50}"}
        for i in range(LIKES)
    ]  # fmt: skip
    ingest_into(db, write_platform(root, accounts, videos, events))
    with Store.open(db) as store:
        began = time.perf_counter()
        refresh_notifications(store)
        print(f"notifications derived from {LIKES:,} likes in {time.perf_counter() - began:.2f} s")
    with Store.open(db, read_only=True) as store:
        con = store.con
        ours, raw = [], []
        cursor = None
        for _ in range(60):
            t = time.perf_counter()
            page = notification_page(con, "star", cursor=cursor)
            ours.append(time.perf_counter() - t)
            cursor = page.next_cursor
            t = time.perf_counter()
            baseline(con)
            raw.append(time.perf_counter() - t)
    print(
        f"notifications page of a creator with {LIKES:,} likes: p50 {p(ours, 50) * 1000:.1f} ms, "
        f"p95 {p(ours, 95) * 1000:.1f} ms; raw scan of events p95 {p(raw, 95) * 1000:.1f} ms; "
        f"ratio {p(raw, 95) / p(ours, 95):.1f}x"
    )


def baseline(con: duckdb.DuckDBPyConnection) -> None:
    """The same first page grouped straight from the events, names not even resolved."""
    con.execute(
        """
        SELECT type, video_id, epoch(ts)::BIGINT // 3600 AS w, max(ts) AS newest,
               count(DISTINCT actor_id), list(DISTINCT actor_id)[1:2]
        FROM events WHERE creator_id = 'star' AND type IN ('like', 'follow', 'duet', 'stitch')
        GROUP BY ALL ORDER BY newest DESC LIMIT 21
        """
    ).fetchall()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "a").mkdir()
        (root / "b").mkdir()
        notifications_bench(root / "b")
        stream_bench(root / "a")
