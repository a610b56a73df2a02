"""The store file: opened with small row groups, read by several connections at once."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest

from creatorlens.errors import UserError
from creatorlens.store import Store
from creatorlens.store.database import ROW_GROUP_SIZE, session_cursor


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
