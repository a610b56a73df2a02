"""Opening the DuckDB store file and creating its schema."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path
from typing import Any

import duckdb

from creatorlens.errors import UserError
from creatorlens.store.keys import KeyRing
from creatorlens.store.placement import (
    ANONYMOUS_TYPES_SQL,
    QUARTER_HOUR_SQL,
    placement_sql,
)

# DuckDB's own cap (buffer pool and operators); the process adds Arrow batches on top.
MEMORY_LIMIT = os.environ.get("CREATORLENS_MEMORY_LIMIT", "768MB")

SCHEMA_SQL = files("creatorlens.store").joinpath("schema.sql").read_text()

# Rows per row group (DuckDB's default is 122,880). Zone maps are kept per row group, so a
# read of one creator's rows from a table ordered by creator decompresses about this many
# rows per table, however few are its own: a dashboard reads some twenty such slices. The
# size is a setting of the attached file, not stored in it: every open of the store sets it.
ROW_GROUP_SIZE = 16_384

# Threads per statement on a store opened read-only, which serves reads: a dashboard reads
# its panels on two threads at once, so a statement spread over every core as well only
# makes its threads take turns (interleaved A/B at 10M: 10-19 % less CPU per dashboard
# and a 16-20 % lower p90 with one thread per statement).
READ_THREADS = 1

# Optimizer passes a store opened read-only skips. A dashboard runs some twenty short
# statements over small slices of the rollups, where planning is a large share of the work
# (a 12-branch overview: 4.6 ms planning and optimizing, 3.8 ms executing) and these passes
# find little to improve: 4 % less CPU per dashboard for the most played creators, 1 % for
# small ones (alternating processes with and without, same statements). A setting of the
# whole DuckDB instance, which a read-only store has to itself.
READ_SKIPPED_OPTIMIZERS = "statistics_propagation,common_subplan"

# The name the store file is attached under; each connection (cursor) reads it by default.
CATALOG = "store"


class Store:
    """A creatorlens store: a DuckDB connection plus where its pseudonym keys live."""

    def __init__(
        self,
        path: Path,
        con: duckdb.DuckDBPyConnection,
        keys_path: Path,
        keys: KeyRing | None = None,
    ):
        self.path = path
        self.con = con
        self.keys_path = keys_path
        # The ring as checked at open (`key_ring()` reads the file again).
        self.keys = keys if keys is not None else KeyRing.load(keys_path)
        self._sessions: dict[threading.Thread, Session] = {}
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls, path: str | Path, *, keys: str | Path | None = None, read_only: bool = False
    ) -> Store:
        """Open (creating if needed) the store at `path`; keys default to `<path>.keys`.

        The key file must hold every key the store records (`store_keys`) and the noise
        secret, else UserError names the file. A new store (no events, no keys recorded)
        adopts the key file given, creating it if needed; a store written before keys were
        recorded adopts the ring it is first opened for writing with.
        """
        path = Path(path)
        if read_only and not path.exists():
            raise UserError(f"no store at {path}")
        keys_path = Path(keys) if keys else path.with_name(path.name + ".keys")
        # TYPE duckdb: a file of another kind (a CSV given as --db) is refused, not opened
        # as an empty in-memory database.
        options = f"TYPE duckdb, ROW_GROUP_SIZE {ROW_GROUP_SIZE}"
        options += ", READ_ONLY" if read_only else ""
        con = duckdb.connect()
        try:
            con.execute(f"ATTACH '{_quoted(path)}' AS {CATALOG} ({options})")
        except duckdb.Error as exc:
            con.close()
            raise UserError(f"cannot open store {path}: {str(exc).splitlines()[0]}") from None
        con.execute(SESSION_SQL)
        # Never spill intermediate results to disk: a batch being pseudonymized holds raw
        # viewer ids, which must not reach any file.
        con.execute("SET temp_directory = ''")
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        # Row order in the store carries no meaning; letting go of it parallelizes writes.
        con.execute("SET preserve_insertion_order = false")
        # Progress is ours to show (Rich bars); DuckDB's own bar would write into stdout.
        con.execute("SET enable_progress_bar = false")
        if read_only:
            con.execute(f"SET threads = {READ_THREADS}")
            con.execute(f"SET disabled_optimizers = '{READ_SKIPPED_OPTIMIZERS}'")
        try:
            if not read_only:
                _separate_named_pseudonyms(con)
                _move_attributes_to_profiles(con)
                con.execute(SCHEMA_SQL)
                _adopt_changed_creators(con)
            ring = _checked_keys(con, path, keys_path, read_only=read_only)
        except BaseException:
            con.close()
            raise
        return cls(path, con, keys_path, ring)

    def key_ring(self) -> KeyRing:
        """The key file as it is now (rotations since the open included)."""
        return KeyRing.load(self.keys_path)

    def session(self) -> Session:
        """This thread's own connection to the store, kept open as long as the store is.

        A server reads each request on the thread that serves it, and a dashboard's panels
        on two worker threads; each keeps one session, so no read pays for opening a
        connection, and each session's parsed statements serve every later read.
        """
        thread = threading.current_thread()
        session = self._sessions.get(thread)
        if session is None:
            session = Session(session_cursor(self.con), self)
            with self._lock:
                # Threads come and go in a server's pools: the sessions of those gone are
                # closed here rather than kept until the store closes.
                for gone in [t for t in self._sessions if not t.is_alive()]:
                    self._sessions.pop(gone).cursor.close()
                self._sessions[thread] = session
        return session

    def close(self) -> None:
        for session in self._sessions.values():
            session.cursor.close()
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# What every connection to the store starts with: the store as its default catalog, and
# UTC as the session time zone (creator-local times are computed explicitly).
SESSION_SQL = f"USE {CATALOG}; SET TimeZone = 'UTC'"


def session_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Another connection to the same store (to read on another thread), set up as `con`."""
    cursor = con.cursor()
    cursor.execute(SESSION_SQL)
    return cursor


# Parsed statements kept per thread (each thread runs its own copies) and per text.
PARSED_PER_THREAD = 256
_parsed = threading.local()


def parsed(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.Statement | str:
    """`sql` parsed once per thread: the statement to run, or the text itself when it holds
    several statements (DuckDB runs those from text only)."""
    statements: OrderedDict[str, duckdb.Statement | str] | None = getattr(
        _parsed, "statements", None
    )
    if statements is None:
        statements = _parsed.statements = OrderedDict()
    found = statements.get(sql)
    if found is None:
        parts = con.extract_statements(sql)
        found = parts[0] if len(parts) == 1 else sql
        statements[sql] = found
        while len(statements) > PARSED_PER_THREAD:
            statements.popitem(last=False)
    else:
        statements.move_to_end(sql)
    return found


class Session:
    """A connection to the store for reads that runs each statement text parsed once.

    DuckDB parses a statement's text on every run. A dashboard's statements are long (a
    panel's reads are one UNION ALL) and the same for every creator, and parsing them took
    about a sixth of a dashboard's CPU. A session runs the parsed statement again with the
    new values bound; DuckDB still binds and plans each run with its values, so row groups
    are skipped by them as before.
    """

    def __init__(self, cursor: duckdb.DuckDBPyConnection, store: Store):
        self.cursor = cursor
        self.store = store

    def execute(self, sql: str, params: Any = None) -> duckdb.DuckDBPyConnection:
        """Run `sql` with `params` bound; the cursor holds the result, as DuckDB's does."""
        return self.cursor.execute(parsed(self.cursor, sql), params)

    def for_this_thread(self) -> Session:
        """The session of the same store that the calling thread reads on."""
        return self.store.session()


# An actor's attributes kept once per combination in `actor_profiles`; an event refers to
# its actor's combination, and `events_with_attributes` shows each as `actor_<attribute>`.
PROFILE_ATTRIBUTES = ("gender", "country", "city", "language")


def same_profile(profile: str, other: str, other_prefix: str = "") -> str:
    """SQL matching profile row `profile` to the attributes of `other`, NULLs alike."""
    return " AND ".join(
        f"{profile}.{a} IS NOT DISTINCT FROM {other}.{other_prefix}{a}" for a in PROFILE_ATTRIBUTES
    )


def new_profiles(source: str, prefix: str = "") -> str:
    """SQL giving each combination of attributes in `source` (columns `<prefix><attribute>`)
    that `actor_profiles` lacks the next number, in a fixed order, so that the same rows
    always number them alike. EXCEPT compares NULLs as equal; a row with none of the
    attributes needs no profile."""
    columns = ", ".join(f"{prefix}{a}" for a in PROFILE_ATTRIBUTES)
    return f"""
    INSERT INTO actor_profiles
    SELECT (SELECT coalesce(max(profile_id), 0) FROM actor_profiles)
               + row_number() OVER (ORDER BY {columns}), {columns}
    FROM (SELECT {columns} FROM {source} WHERE coalesce({columns}) IS NOT NULL
          EXCEPT SELECT {", ".join(PROFILE_ATTRIBUTES)} FROM actor_profiles)
    """


def _move_attributes_to_profiles(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a store written before events kept an actor profile to today's layout.

    Its events are copied once into today's `events` table, each combination of the four
    attributes becoming a row of `actor_profiles`, in one transaction.
    """
    if "actor_gender" not in _columns(con, "events"):
        return
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("ALTER TABLE events RENAME TO events_before_profiles")
        con.execute(SCHEMA_SQL)
        con.execute(new_profiles("events_before_profiles", "actor_"))
        values = ", ".join(
            "p.profile_id" if c == "actor_profile" else f"e.{c}" for c in _columns(con, "events")
        )
        con.execute(
            f"""
            INSERT INTO events
            SELECT {values} FROM events_before_profiles e
            LEFT JOIN actor_profiles p ON {same_profile("p", "e", "actor_")}
            """
        )
        con.execute("DROP TABLE events_before_profiles")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The store table's columns, in order (none if there is no such table)."""
    return [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() "
            "WHERE database_name = ? AND table_name = ? ORDER BY column_index",
            [CATALOG, table],
        ).fetchall()
    ]


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store has a (persistent) table of that name."""
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
            [name],
        ).fetchone()[0]
    )


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


# --- the key ring a store was written with -------------------------------------------------


def _checked_keys(
    con: duckdb.DuckDBPyConnection, path: Path, keys_path: Path, *, read_only: bool
) -> KeyRing:
    """The ring at `keys_path`, checked against the keys the store records; a writable open
    of a new store, or of one written before keys were recorded, records the ring's keys."""
    ring = KeyRing.load(keys_path)
    recorded = set()
    if has_table(con, "store_keys"):
        recorded = {k for (k,) in con.execute("SELECT key_id FROM store_keys").fetchall()}
    if recorded:
        if not keys_path.exists():
            raise UserError(
                f"key file {keys_path} not found: store {path} was written with "
                f"{_listed(recorded)}; name its key file with --keys"
            )
        missing = recorded - ring.key_ids
        if missing:
            raise UserError(
                f"key file {keys_path} lacks {_listed(missing)} that store {path} was "
                "written with; name the store's own key file with --keys"
            )
        if ring.noise is None:
            raise UserError(f"key file {keys_path} has no noise secret; it is not {path}'s")
        return ring
    if read_only:
        return ring  # nothing recorded to check; a writable open records the ring
    has_events = (
        has_table(con, "events")
        and con.execute("SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1)").fetchone()[0]
    )
    if not has_events:
        if not keys_path.exists():
            ring = KeyRing.create(keys_path)
    else:
        # Written before stores recorded their keys: the ring it is opened with must hold
        # every key its events were pseudonymized with, and becomes its ring.
        if not ring.keys:
            raise UserError(
                f"key file {keys_path} not found or empty, but store {path} holds events "
                "made with keys; name its key file with --keys"
            )
        used = {
            k
            for (k,) in con.execute(
                "SELECT DISTINCT key_id FROM events WHERE key_id IS NOT NULL"
            ).fetchall()
        }
        missing = used - ring.key_ids
        if missing:
            raise UserError(
                f"key file {keys_path} lacks {_listed(missing)} that store {path} was "
                "written with; name the store's own key file with --keys"
            )
    ring.active()
    ring.ensure_noise()
    record_keys(con, ring.key_ids)
    return ring


def record_keys(con: duckdb.DuckDBPyConnection, key_ids: Iterable[str]) -> None:
    """Record that the store holds pseudonyms made with these keys (idempotent)."""
    ids = sorted(set(key_ids))
    if ids:
        con.execute(
            "INSERT INTO store_keys SELECT k, now() FROM unnest($ids) t(k) "
            "WHERE k NOT IN (SELECT key_id FROM store_keys)",
            {"ids": ids},
        )


def _listed(key_ids: set[str]) -> str:
    ids = sorted(key_ids)
    shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
    return f"key{'s' if len(ids) > 1 else ''} {shown}"


def key_ring(db: str | Path, keys: str | Path | None = None) -> KeyRing:
    """The pseudonym key ring of the store at `db` (by default `<db>.keys`), checked
    against the keys the store records."""
    db = Path(db)
    if not db.exists():
        raise UserError(f"no store at {db}")
    with Store.open(db, keys=keys, read_only=True) as store:
        return store.keys


# --- what ingest records for the rollup refresh ---------------------------------------------


def mark_creators_dirty(con: duckdb.DuckDBPyConnection, creator_ids: Iterable[str]) -> None:
    """Have the next rollup refresh recompute these creators whole.

    For writers that change past rows in place (the opt-out rewrite in ingest): call it
    inside the same transaction as the change, so the mark commits with it.
    """
    ids = sorted({c for c in creator_ids if c is not None})
    if ids:
        con.execute("INSERT INTO changed_creators SELECT unnest($ids), now()", {"ids": ids})


def _adopt_changed_creators(con: duckdb.DuckDBPyConnection) -> None:
    """Creators marked in `rollup_dirty`, where marks were kept before ingest stopped
    writing rollup tables, move to `changed_creators`."""
    if has_table(con, "rollup_dirty"):
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("INSERT INTO changed_creators SELECT * FROM rollup_dirty")
            con.execute("DROP TABLE rollup_dirty")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


# --- older layouts ---------------------------------------------------------------------------


def _schema_statement(table: str) -> str:
    """The CREATE TABLE statement of one table of the schema."""
    for statement in SCHEMA_SQL.split(";"):
        if f"CREATE TABLE IF NOT EXISTS {table} (" in statement:
            return statement
    raise KeyError(table)


# A like of a store written before named events lost their pseudonym, placed by every play
# stored (as the rollups placed it then).
_LEGACY_LIKES = f"""
CREATE OR REPLACE TEMP TABLE legacy_placed AS
WITH likes AS (
    SELECT event_id AS like_no, creator_id, video_id, viewer_pid AS pid, epoch_ms(ts) AS at_ms
    FROM events
    WHERE type = 'like' AND viewer_pid IS NOT NULL AND video_id IS NOT NULL
),
plays AS (
    SELECT creator_id, video_id, viewer_pid AS pid, epoch_ms(ts) AS start_ms,
           epoch_ms(ts) + watched_ms AS end_ms
    FROM events WHERE type = 'view' AND viewer_pid IS NOT NULL
)
{placement_sql("likes", "plays")}
"""


def _separate_named_pseudonyms(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a store written while named events kept the actor's anonymous pseudonym to
    today's layout, in one transaction: each like gets its play position, each like and
    comment its mark in `engagement_marks`, and named events lose the pseudonym."""
    columns = _columns(con, "events")
    if not columns or "play_position_ms" in columns:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DROP VIEW IF EXISTS events_with_attributes")
        con.execute("ALTER TABLE events ADD COLUMN play_position_ms BIGINT")
        con.execute(_schema_statement("engagement_marks"))
        con.execute(_LEGACY_LIKES)
        con.execute(
            """
            UPDATE events SET play_position_ms = p.play_position_ms FROM legacy_placed p
            WHERE events.type = 'like' AND events.event_id = p.like_no
              AND p.play_position_ms IS NOT NULL
            """
        )
        con.execute(
            f"""
            INSERT INTO engagement_marks
            SELECT creator_id, video_id, {QUARTER_HOUR_SQL.format(ts="ts")}, viewer_pid, key_id,
                   type
            FROM events
            WHERE type IN ('like', 'comment') AND viewer_pid IS NOT NULL
              AND video_id IS NOT NULL AND creator_id IS NOT NULL
            ORDER BY viewer_pid
            """
        )
        con.execute(
            f"""
            UPDATE events SET viewer_pid = NULL, key_id = NULL
            WHERE type NOT IN {ANONYMOUS_TYPES_SQL} AND viewer_pid IS NOT NULL
            """
        )
        con.execute("DROP TABLE legacy_placed")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
