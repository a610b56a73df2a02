"""The store file: opened with small row groups, read by several connections at once."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import duckdb
import pytest

from creatorlens.errors import UserError
from creatorlens.store import Store, database
from creatorlens.store.database import ROW_GROUP_SIZE, parsed, session_cursor


def _row_groups(con: duckdb.DuckDBPyConnection, table: str) -> int:
    (n,) = con.execute(
        f"SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('{table}')"
    ).fetchone()
    return n


def test_tables_are_written_in_small_row_groups(tmp_path: Path) -> None:
    rows = 3 * ROW_GROUP_SIZE + 5
    with Store.open(tmp_path / "s.duckdb") as store:
        store.con.execute(f"CREATE TABLE numbers AS SELECT range AS n FROM range({rows})")
        store.con.execute("CHECKPOINT")
    # Reopened (read-only) the data is all there, and a plain DuckDB connection to the same
    # file sees the row groups the store wrote: 4 of at most ROW_GROUP_SIZE rows each.
    with Store.open(tmp_path / "s.duckdb", read_only=True) as store:
        assert store.con.execute("SELECT count(*), sum(n) FROM numbers").fetchone() == (
            rows,
            rows * (rows - 1) // 2,
        )
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    try:
        assert _row_groups(con, "numbers") == math.ceil(rows / ROW_GROUP_SIZE) == 4
    finally:
        con.close()


def test_a_session_cursor_reads_the_store_in_utc(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        store.con.execute("CREATE TABLE t AS SELECT 7 AS x")
        cursor = session_cursor(store.con)
        try:
            assert cursor.execute("SELECT x FROM t").fetchone() == (7,)
            assert cursor.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)
        finally:
            cursor.close()
        # The store's own connection is untouched by the cursor closing.
        assert store.con.execute("SELECT x FROM t").fetchone() == (7,)


def test_a_missing_or_broken_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no store at"):
        Store.open(tmp_path / "missing.duckdb", read_only=True)
    (tmp_path / "junk.duckdb").write_text("not a database")
    with pytest.raises(UserError, match="cannot open store"):
        Store.open(tmp_path / "junk.duckdb")


def test_each_thread_reads_on_one_session_for_the_life_of_the_store(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb")
    store.con.execute("CREATE TABLE t AS SELECT 7 AS x")
    mine = store.session()
    assert store.session() is mine
    assert mine.for_this_thread() is mine
    theirs = []
    worker = threading.Thread(target=lambda: theirs.append(mine.for_this_thread()))
    worker.start()
    worker.join()
    assert theirs[0] is not mine and theirs[0].cursor is not mine.cursor
    assert theirs[0].execute("SELECT x FROM t").fetchone() == (7,)
    assert mine.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)
    # A thread that has ended gives its session up when the next one opens.
    later = []
    worker = threading.Thread(target=lambda: later.append(mine.for_this_thread()))
    worker.start()
    worker.join()
    with pytest.raises(duckdb.ConnectionException):
        theirs[0].execute("SELECT 1")
    assert later[0].execute("SELECT x FROM t").fetchone() == (7,)
    store.close()
    for session in (mine, later[0]):
        with pytest.raises(duckdb.ConnectionException):
            session.execute("SELECT 1")


def test_a_session_runs_a_parsed_text_again_with_new_values_and_new_data(
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        store.con.execute("CREATE TABLE t AS SELECT range + 1 AS n FROM range(10)")
        session = store.session()
        sql = "SELECT count(*), coalesce(sum(n), 0) FROM t WHERE n < $below"
        assert session.execute(sql, {"below": 3}).fetchone() == (2, 3)  # 1 + 2
        assert session.execute(sql, {"below": 8}).fetchone() == (7, 28)  # 1 + ... + 7
        assert parsed(session.cursor, sql) is parsed(session.cursor, sql)
        # Rows written after the text was parsed are read: only the parse is kept.
        store.con.execute("INSERT INTO t VALUES (0), (0)")
        assert session.execute(sql, {"below": 1}).fetchone() == (2, 0)
        # Several statements in one text run from the text.
        session.execute("CREATE TEMP TABLE u AS SELECT 1 AS a; INSERT INTO u VALUES (2)")
        assert session.execute("SELECT sum(a) FROM u").fetchone() == (3,)


def test_parsed_statements_are_kept_up_to_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "PARSED_PER_THREAD", 2)
    con = duckdb.connect()
    try:
        first = parsed(con, "SELECT 1")
        assert parsed(con, "SELECT 1") is first
        parsed(con, "SELECT 2")
        parsed(con, "SELECT 3")  # the least recently used text, SELECT 1, is let go
        assert parsed(con, "SELECT 1") is not first
        assert con.execute(parsed(con, "SELECT 3")).fetchone() == (3,)
    finally:
        con.close()


def test_a_read_only_store_runs_each_statement_on_one_thread(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        writer_threads = store.con.execute("SELECT current_setting('threads')").fetchone()[0]
    with Store.open(tmp_path / "s.duckdb", read_only=True) as store:
        # Every connection of the store, the sessions too, shares the setting.
        setting = "SELECT current_setting('threads')"
        assert store.session().execute(setting).fetchone() == (1,)
    # Ingest and refresh keep every core.
    assert writer_threads == duckdb.connect().execute(setting).fetchone()[0]


def test_a_store_with_attributes_on_each_event_moves_them_to_profiles(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with Store.open(db) as store:
        store.con.execute(
            "INSERT INTO actor_profiles VALUES (1, 'female', 'BR', 'Recife', 'pt'), "
            "(2, 'male', NULL, NULL, 'en')"
        )
        store.con.execute(
            """
            INSERT INTO events (event_id, type, ts, creator_id, actor_age_bucket,
                                actor_profile, actor_opt_out, actor_is_follower, ingested_at)
            VALUES ('a', 'view', now(), 'c1', '18-24', 1, false, false, now()),
                   ('b', 'view', now(), 'c1', '25-34', 2, false, true, now()),
                   ('c', 'view', now(), 'c1', NULL, NULL, true, false, now()),
                   ('d', 'like', now(), 'c2', '18-24', 1, false, false, now())
            """
        )
        before = store.con.execute(
            "SELECT * FROM events_with_attributes ORDER BY event_id"
        ).fetchall()
        # The layout of an older store: the four attributes on every event, no profiles.
        store.con.execute(
            """
            CREATE TABLE old_events AS SELECT * FROM events_with_attributes;
            DROP VIEW events_with_attributes;
            DROP TABLE events;
            DROP TABLE actor_profiles;
            ALTER TABLE old_events RENAME TO events;
            """
        )
    with Store.open(db) as store:
        after = store.con.execute("SELECT * FROM events_with_attributes ORDER BY event_id")
        assert after.fetchall() == before
        profiles = store.con.execute(
            "SELECT gender, country, city, language FROM actor_profiles ORDER BY ALL"
        ).fetchall()
        assert profiles == [("female", "BR", "Recife", "pt"), ("male", None, None, "en")]
        (dropped,) = store.con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'events' "
            "AND column_name IN ('actor_gender', 'actor_country', 'actor_city', 'actor_language')"
        ).fetchone()
        assert dropped == 0
