"""The collector feeds the lake (`serve --lake`): a real server, events posted over HTTP,
each in the lake once (read back with DuckDB's Parquet reader), also after a kill -9 and
the client's retries, in few files; and Spark's rollups of what the collector wrote give
the answers the server gives, worked out by hand."""

from __future__ import annotations

import shutil
import time
from datetime import datetime
from pathlib import Path

import duckdb
import httpx
import pytest

from creatorlens.lake import LAKE_TABLES, lake_files, load_rollups, run_spark_rollups
from creatorlens.lake.feed import FEED_SMALL_FILES
from tests.serve.conftest import Server, create_token, kill_mid_load_then_resend
from tests.serve.test_collector import ACCOUNTS, CREATOR, FIRST, VIDEOS, WINDOW, view
from tests.serve.test_crash import BATCH, batch

BATCHES = 40

# e1..e8 in one request, then e1 again (a retry) with e9: a view of exactly 3 s.
LATE = view("e9", "vd", "2026-11-03T15:00:00Z", 3_000, "profile")


def wait_for_lake(server: Server, since: float, timeout: float = 60) -> dict:
    """Until the lake holds every event the server stored before `since` (a time.time())."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = httpx.get(server.url + "/v1/status", timeout=5).json()
        as_of = status["lake_as_of"]
        if (
            status["lake_events_waiting"] == 0
            and as_of
            and datetime.fromisoformat(as_of).timestamp() > since
        ):
            return status
        time.sleep(0.1)
    raise AssertionError(f"lake not caught up after {timeout} s: {status}")


def lake_rows(lake: Path, table: str, columns: str = "*", where: str = "true") -> list[tuple]:
    """Rows of a lake table's current version, read with DuckDB's Parquet reader."""
    files = lake_files(lake, table)
    with duckdb.connect() as con:
        return con.execute(
            f"SELECT {columns} FROM read_parquet({files!r}, hive_partitioning = true) WHERE {where}"
        ).fetchall()


def tables_unlike_the_store(lake: Path, db: Path) -> dict[str, tuple[int, int]]:
    """Lake tables whose rows differ from the store's, read as an export reads them: (rows
    only in the lake, rows only in the store)."""
    differ = {}
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{db}' AS store (READ_ONLY)")
        con.execute("USE store")
        for table in LAKE_TABLES:
            files = lake_files(lake, table.name)
            if not files:  # an empty table is a version without files
                (rows,) = con.execute(f"SELECT count(*) FROM ({table.select})").fetchone()
                if rows:
                    differ[table.name] = (0, rows)
                continue
            hive = "true" if table.partitioned else "false"
            lake_sql = f"SELECT * FROM read_parquet({files!r}, hive_partitioning = {hive})"
            only_lake, only_store = con.execute(
                f"""SELECT (SELECT count(*) FROM ({lake_sql} EXCEPT ALL {table.select})),
                           (SELECT count(*) FROM ({table.select} EXCEPT ALL {lake_sql}))"""
            ).fetchone()
            if only_lake or only_store:
                differ[table.name] = (only_lake, only_store)
    return differ


@pytest.fixture(scope="module")
def fed(tmp_path_factory) -> dict:
    """A server with --lake: the hand-made creator's records posted, one event re-sent;
    its own answer kept; then stopped as an operator stops it."""
    root = tmp_path_factory.mktemp("collector-lake")
    db, lake = root / "store.duckdb", root / "lake"
    server = Server(db, ("--lake", str(lake), "--lake-every", "0.2")).start()
    try:
        ingest = create_token(db, "--ingest")
        creator = create_token(db, "--creator", CREATOR)
        with server.client(ingest) as apps, server.client(creator) as studio:
            for entity, records in (("accounts", ACCOUNTS), ("videos", VIDEOS)):
                assert apps.post(f"/v1/{entity}", json=records).status_code == 200
            assert apps.post("/v1/events", json=FIRST).json()["accepted"] == 8
            sent = time.time()
            retry = apps.post("/v1/events", json=[FIRST[0], LATE]).json()
            assert (retry["accepted"], retry["duplicates"]) == (1, 1)
            wait_for_lake(server, sent)
            server.wait_fresh(sent)
            overview = studio.get(f"/v1/creators/{CREATOR}/overview", params=WINDOW).json()
    finally:
        server.stop()
    return {"root": root, "db": db, "lake": lake, "overview": overview["overview"]}


def test_the_collector_puts_each_stored_event_in_the_lake_once(fed) -> None:
    lake = fed["lake"]
    ids = [i for (i,) in lake_rows(lake, "events", "event_id")]
    assert sorted(ids) == [f"e{n}" for n in range(1, 10)]
    dates = {(i, str(d)) for i, d in lake_rows(lake, "events", "event_id, event_date")}
    assert ("e3", "2026-11-03") in dates and ("e7", "2026-11-02") in dates
    # Every table as an export of the store would write it: the lake follows the store.
    assert tables_unlike_the_store(lake, fed["db"]) == {}
    # The viewers of anonymous events are pseudonyms in the lake too, never their ids.
    views = lake_rows(lake, "events", "actor_id, viewer_pid", "type = 'view'")
    assert len(views) == 4 and all(a is None and p is not None for a, p in views)


def test_the_server_stopping_appends_what_waits(tmp_path) -> None:
    # An append every hour at most: only the stop puts the events in the lake.
    db, lake = tmp_path / "store.duckdb", tmp_path / "lake"
    server = Server(db, ("--lake", str(lake), "--lake-every", "3600")).start()
    try:
        key = create_token(db, "--ingest")
        with server.client(key) as apps:
            for entity, records in (("accounts", ACCOUNTS), ("videos", VIDEOS)):
                apps.post(f"/v1/{entity}", json=records)
            assert apps.post("/v1/events", json=FIRST).json()["accepted"] == 8
        status = httpx.get(server.url + "/v1/status").json()
        assert status["lake_events_waiting"] == 8
    finally:
        server.stop()
    assert len(lake_rows(lake, "events", "event_id")) == 8


@pytest.mark.spark
def test_spark_rollups_of_the_collectors_lake_answer_as_the_server_does(fed) -> None:
    out, served = fed["root"] / "spark-out", fed["root"] / "served.duckdb"
    summary = run_spark_rollups(fed["lake"], out)
    assert (summary.mode, summary.events) == ("full", 9)
    shutil.copy(fed["db"].with_name("store.duckdb.keys"), served.with_name("served.duckdb.keys"))
    load_rollups(out, served, keys=served.with_name("served.duckdb.keys"))
    server = Server(served).start()
    try:
        creator = create_token(served, "--creator", CREATOR)
        with server.client(creator) as studio:
            overview = studio.get(f"/v1/creators/{CREATOR}/overview", params=WINDOW).json()
    finally:
        server.stop()
    totals = overview["overview"]["totals"]
    # By hand: plays e1, e2, e3, e9; views all but e2 (2 s); watched 5 + 2 + 12 + 3 s; e3
    # alone watched the 10 s to the end; four viewers; e4 a like, e5 a comment, e6 a
    # share, e7 a follow, e8 a profile view.
    assert (totals["plays"], totals["views"], totals["reach"]) == (4, 3, 4)
    assert totals["total_watch_ms"] == 22_000
    assert totals["full_watch_rate"] == pytest.approx(1 / 4)
    assert (totals["likes"], totals["comments"], totals["shares"]) == (1, 1, 1)
    assert (totals["profile_views"], totals["followers_net"]) == (1, 1)
    assert {d["day"]: d["views"] for d in overview["overview"]["daily"]} == {
        "2026-11-02": 1,
        "2026-11-03": 2,
    }
    # And every figure of the overview is the serving store's own.
    assert overview["overview"] == fed["overview"]


def test_kill_9_mid_load_then_retries_leave_each_event_once_in_few_files(tmp_path) -> None:
    db, lake = tmp_path / "store.duckdb", tmp_path / "lake"
    # An append as soon as 1,000 events wait: about one per request group under this load.
    options = ("--lake", str(lake), "--lake-events", "1000", "--lake-every", "60")
    server = Server(db, options).start()
    try:
        key = create_token(db, "--ingest")
        with server.client(key) as apps:
            for entity, records in (("accounts", ACCOUNTS), ("videos", VIDEOS)):
                assert apps.post(f"/v1/{entity}", json=records).status_code == 200
        log = lake / "events" / "_delta_log"
        # Killed once the lake has had a few appends, more going on.
        acknowledged, answered = kill_mid_load_then_resend(
            server, key, batch, BATCHES, ready=lambda: len(list(log.glob("*.json"))) >= 3
        )
        assert 10 <= len(acknowledged) < BATCHES
        assert {b for b, _ in answered} == set(range(BATCHES))
    finally:
        server.stop()

    expected = BATCHES * BATCH
    events, distinct = lake_rows(lake, "events", "count(*), count(DISTINCT event_id)")[0]
    assert events == distinct == expected
    assert tables_unlike_the_store(lake, db) == {}
    # Many appends, few files: the one date's small files are merged past FEED_SMALL_FILES.
    commits = (lake / "events" / "_delta_log").glob("*.json")
    appends = [c for c in commits if '"operation":"WRITE"' in c.read_text()]
    assert len(appends) > FEED_SMALL_FILES
    assert 1 <= len(lake_files(lake, "events")) <= FEED_SMALL_FILES
