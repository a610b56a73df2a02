"""Keeping the rollup tables equal to a full rebuild, recomputing only what changed.

A refresh recomputes whole (creator, local day) keys: it deletes every rollup row of a
dirty key and inserts it again from all the events of that key, in one transaction. A key
is dirty when

- an event ingested after the watermark (the newest `ingested_at` rolled up) falls on it,
  however old its day (late events included);
- its creator's time zone differs from the one the rollups used (`rollup_zones`): then the
  whole creator is recomputed, since every day boundary moved;
- its creator was marked with `mark_creators_dirty` (ingest does so in `changed_creators`
  when it rewrites past rows in place, as for a later analytics opt-out, without a new
  `ingested_at`);
- it has plays or likes of a video whose duration changed (`rollup_durations`);
- for "videos your followers watched" (`rollup_follower_watch`, keyed by the followed
  creator), ingest recorded a quarter hour of it in `follower_plays_changed`.

What ingest records for the refresh (`changed_creators`, `follower_plays_changed`,
`privacy_changes`) is read and emptied in the refresh's transaction.

A changed view threshold, changed rollup definitions, no state yet, or events appearing
below the watermark (a writer that committed late, or deleted events) rebuild everything.

Both work through ranges of creators of about `CHUNK_EVENTS` events, one statement per
rollup and range, so memory stays bounded whatever the size of the store.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import duckdb

from creatorlens.rollup.definitions import (
    DERIVED_TABLES,
    FOLLOWER_SPANS,
    INPUT_CREATOR,
    LIKER_ACCOUNTS,
    LIKER_SETTINGS,
    ROLLUPS,
    VIEWER_DAY_COUNTS,
    VIEWER_DAYS,
    Rollup,
    parameters_of,
    render,
    render_create,
    render_follower_spans,
    render_follower_spans_create,
    render_input,
    render_liker_accounts,
    render_liker_accounts_create,
    render_liker_accounts_view,
    render_viewer_day_counts,
    render_viewer_day_counts_create,
    render_viewer_day_rows,
    render_viewer_days,
    render_viewer_days_create,
)
from creatorlens.store import Store, mark_creators_dirty
from creatorlens.store.database import ROW_GROUP_SIZE, SCHEMA_SQL, has_table

__all__ = ["mark_creators_dirty"]  # re-exported: ingest marks creators in the store itself

DEFAULT_VIEW_THRESHOLD_MS = 3_000

Progress = Callable[[str, int, int], None]

_STATE_TABLES = """
CREATE TABLE IF NOT EXISTS rollup_state (
    view_threshold_ms BIGINT NOT NULL,
    definitions       VARCHAR NOT NULL,  -- fingerprint of the rollup SQL in force
    watermark         TIMESTAMPTZ,       -- newest events.ingested_at rolled up
    events_seen       BIGINT NOT NULL,   -- events with ingested_at <= watermark, then
    refreshed_at      TIMESTAMPTZ NOT NULL
);
-- The time zone each creator's rollup rows were computed in.
CREATE TABLE IF NOT EXISTS rollup_zones (
    creator_id VARCHAR NOT NULL,
    timezone   VARCHAR NOT NULL
);
-- The follows and account versions the follower spans were computed from.
CREATE TABLE IF NOT EXISTS rollup_spans_state (
    follows_seen  BIGINT NOT NULL,
    accounts_seen BIGINT NOT NULL
);
-- The duration each video's full watches and retention were computed with.
CREATE TABLE IF NOT EXISTS rollup_durations (
    video_id    VARCHAR NOT NULL,
    duration_ms BIGINT NOT NULL
);
"""


# The order rows are written in, so that zone maps prune a creator's reads: by creator and
# day, and for the viewer-day tables by property first (a read asks for one property, or a
# few, of a period).
ROW_ORDER = {
    VIEWER_DAYS: "creator_id, property, local_date",
    VIEWER_DAY_COUNTS: "creator_id, property, local_date",
    LIKER_SETTINGS: "creator_id, actor_id",
    FOLLOWER_SPANS: "creator_id, since",
}


# A fingerprint of every rollup's SQL, schema and layout: changing any of them rebuilds.
def definition_texts() -> list[str]:
    """The SQL and schema of every rollup, derived ones included, and the row group size
    they are written in: what the fingerprint of the definitions in force is taken over."""
    return [
        f"row groups of {ROW_GROUP_SIZE} rows, rows ordered by {sorted(ROW_ORDER.items())}",
        *(render(r) + render_create(r) for r in ROLLUPS),
        render_viewer_days() + render_viewer_days_create(),
        render_viewer_day_counts() + render_viewer_day_counts_create(),
        render_follower_spans() + render_follower_spans_create(),
        render_liker_accounts() + render_liker_accounts_create() + render_liker_accounts_view(),
    ]


DEFINITIONS = hashlib.sha256("\n".join(definition_texts()).encode()).hexdigest()[:16]

# Rollups are computed a range of creators at a time, each range holding about this many
# events: memory stays bounded (the store never spills to disk) whatever the store's size.
# One creator is never split, so a single creator's events set the floor.
CHUNK_EVENTS = int(os.environ.get("CREATORLENS_ROLLUP_CHUNK_EVENTS", "500000"))

# A creator-local day D covers UTC instants within [D - 14 h, D + 1 day + 12 h): every
# zone's offset lies within -12 h and +14 h. One day on each side is a safe margin.
_DAY_MARGIN = timedelta(days=1)


@dataclass
class RefreshSummary:
    """What one refresh did and why."""

    mode: str  # "full", "incremental" or "unchanged"
    reason: str
    view_threshold_ms: int
    new_events: int = 0
    creators: int = 0  # creators recomputed whole (time zone change or marked dirty)
    days: int = 0  # (creator, local day) keys recomputed
    rows: dict[str, int] = field(default_factory=dict)  # rows written per table
    seconds: float = 0.0


def create_rollup_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the (empty) rollup and state tables if they do not exist yet (and the store's
    own, which they read)."""
    con.execute(SCHEMA_SQL)
    for rollup in ROLLUPS:
        con.execute(render_create(rollup))
    con.execute(render_viewer_days_create())
    con.execute(render_viewer_day_counts_create())
    con.execute(render_follower_spans_create())
    con.execute(render_liker_accounts_create())
    # Before the view, the liker accounts were a table of their own; a rebuild refills them.
    if has_table(con, LIKER_ACCOUNTS):
        con.execute(f"DROP TABLE {LIKER_ACCOUNTS}")
    con.execute(render_liker_accounts_view())
    con.execute(_STATE_TABLES)


def refresh_rollups(
    con_or_store: Store | duckdb.DuckDBPyConnection,
    view_threshold_ms: int | None = None,
    progress: Progress | None = None,
) -> RefreshSummary:
    """Bring the rollups up to date with the store; the result equals a full rebuild.

    Views are counted from `view_threshold_ms` (None: the threshold the rollups were made
    with, 3 000 ms for a new store); a new threshold rebuilds them."""
    return _run(_connection(con_or_store), view_threshold_ms, progress, force=False)


def rebuild_rollups(
    con_or_store: Store | duckdb.DuckDBPyConnection,
    view_threshold_ms: int | None = None,
    progress: Progress | None = None,
) -> RefreshSummary:
    """Drop every rollup and compute it again from all events."""
    return _run(_connection(con_or_store), view_threshold_ms, progress, force=True)


def view_threshold_in_force(con: duckdb.DuckDBPyConnection) -> int:
    """The view threshold the rollups were computed with (the default for a new store)."""
    if not has_table(con, "rollup_state"):
        return DEFAULT_VIEW_THRESHOLD_MS
    row = con.execute("SELECT view_threshold_ms FROM rollup_state").fetchone()
    return int(row[0]) if row else DEFAULT_VIEW_THRESHOLD_MS


def _connection(con_or_store: Store | duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    return con_or_store.con if isinstance(con_or_store, Store) else con_or_store


def _run(
    con: duckdb.DuckDBPyConnection,
    view_threshold_ms: int | None,
    progress: Progress | None,
    *,
    force: bool,
) -> RefreshSummary:
    if view_threshold_ms is None:
        view_threshold_ms = view_threshold_in_force(con)
    if view_threshold_ms < 0:
        raise ValueError("view_threshold_ms must not be negative")
    started = time.perf_counter()
    create_rollup_tables(con)
    con.execute("BEGIN TRANSACTION")
    try:
        watermark, events_seen = con.execute(
            "SELECT max(ingested_at), count(*) FROM events"
        ).fetchone()
        reason = "requested" if force else _rebuild_reason(con, view_threshold_ms)
        if reason:
            summary = _rebuild(con, view_threshold_ms, reason, progress)
        else:
            summary = _refresh(con, view_threshold_ms, progress)
        _follower_spans(con, summary, progress, force=bool(reason))
        _fold_privacy_changes(con)
        con.execute("DELETE FROM rollup_state")
        con.execute(
            "INSERT INTO rollup_state VALUES ($threshold, $definitions, $watermark, $seen, now())",
            {
                "threshold": view_threshold_ms,
                "definitions": DEFINITIONS,
                "watermark": watermark,
                "seen": events_seen,
            },
        )
        con.execute("DELETE FROM changed_creators")
        con.execute("DELETE FROM follower_plays_changed")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for temp in _TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS temp.{temp}")
    summary.seconds = time.perf_counter() - started
    return summary


# Rollup tables of earlier layouts, dropped by the rebuild their changed definitions cause.
RETIRED_TABLES = ("rollup_follower_hourly", "rollup_watch_state")

# The temp tables a refresh works with, dropped when it ends, whichever way.
_TEMP_TABLES = (
    "refresh_days",
    "refresh_creators",
    "refresh_watch_days",
    "affected_viewers",
    "viewer_days_before",
    "count_changes",
    "new_counts",
    "new_viewers",
    "affected_audience",
)


def _rebuild_reason(con: duckdb.DuckDBPyConnection, view_threshold_ms: int) -> str:
    """Why the rollups cannot be brought up to date key by key ('' when they can)."""
    state = con.execute(
        "SELECT view_threshold_ms, definitions, watermark, events_seen FROM rollup_state"
    ).fetchone()
    if state is None:
        return "first refresh"
    threshold, definitions, watermark, events_seen = state
    if threshold != view_threshold_ms:
        return f"view threshold changed from {threshold} to {view_threshold_ms} ms"
    if definitions != DEFINITIONS:
        return "rollup definitions changed"
    # Events at or below the watermark that were not there last time committed late (a
    # concurrent writer) or some were deleted: no key can be trusted.
    below = con.execute(
        "SELECT count(*) FROM events WHERE ingested_at <= $watermark", {"watermark": watermark}
    ).fetchone()[0]
    if watermark is not None and below != events_seen:
        return "events changed below the watermark"
    return ""


# --- full rebuild --------------------------------------------------------------------------


def _rebuild(
    con: duckdb.DuckDBPyConnection,
    view_threshold_ms: int,
    reason: str,
    progress: Progress | None,
) -> RefreshSummary:
    summary = RefreshSummary("full", reason, view_threshold_ms)
    summary.new_events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    for rollup in ROLLUPS:
        # Dropped, not emptied, so a changed definition also changes the table's columns.
        con.execute(f"DROP TABLE IF EXISTS {rollup.name}")
        con.execute(render_create(rollup))
    for derived in (*DERIVED_TABLES, *RETIRED_TABLES):
        con.execute(f"DROP TABLE IF EXISTS {derived}")
    create_rollup_tables(con)
    ranges = _creator_ranges(con, "true", {})
    _compute(con, ranges, None, {}, view_threshold_ms, summary, progress)
    _viewer_days(con, ranges, None, summary, progress)
    _follower_watch(con, None, {}, summary, progress)
    _liker_accounts(con, None, summary, progress)
    con.execute("DELETE FROM rollup_zones")
    con.execute(
        """
        INSERT INTO rollup_zones
        SELECT c.creator_id, coalesce(a.timezone, 'UTC')
        FROM (SELECT creator_id FROM events WHERE creator_id IS NOT NULL
              UNION SELECT followed_id FROM follower_plays) c
        LEFT JOIN accounts a ON a.account_id = c.creator_id
        """
    )
    con.execute("DELETE FROM rollup_durations")
    con.execute("INSERT INTO rollup_durations SELECT video_id, duration_ms FROM videos")
    summary.creators = con.execute("SELECT count(*) FROM rollup_zones").fetchone()[0]
    _report(progress, "state", 1, 1)
    return summary


# Consecutive ranges of creators holding about $chunk rows of `table` each (a creator with
# more has a range of its own).
_CREATOR_RANGES = """
WITH per_creator AS (
    SELECT e.{creator} AS creator_id, count(*) AS events
    FROM {table} e
    WHERE e.{creator} IS NOT NULL AND ({events_filter})
    GROUP BY e.{creator}
),
running AS (
    SELECT creator_id, sum(events) OVER (ORDER BY creator_id) - events AS before
    FROM per_creator
)
SELECT min(creator_id), max(creator_id)
FROM running
GROUP BY before // $chunk
ORDER BY 1
"""


def _creator_ranges(
    con: duckdb.DuckDBPyConnection,
    events_filter: str,
    params: dict[str, object],
    input: str = "events",
) -> list[tuple[str, str]]:
    table = "follower_plays" if input == "follower_plays" else "events"
    sql = _CREATOR_RANGES.format(
        events_filter=events_filter, table=table, creator=INPUT_CREATOR[input]
    )
    return con.execute(sql, {**params, "chunk": max(CHUNK_EVENTS, 1)}).fetchall()


def _compute(
    con: duckdb.DuckDBPyConnection,
    ranges: list[tuple[str, str]],
    keys: str | None,
    params: dict[str, object],
    view_threshold_ms: int,
    summary: RefreshSummary,
    progress: Progress | None,
) -> None:
    """Insert every rollup's rows for the creator ranges (and `keys`, when given).

    Each rollup reads its range straight from `events`: a temp table of the range would
    keep its memory until the transaction commits. Ranges go in creator order, so each
    table's new rows are ordered by creator and day.
    """
    extra = ""
    if keys:
        extra = " AND " + _near_days()
    for i, (lo, hi) in enumerate(ranges):
        events_filter = "e.creator_id >= $lo AND e.creator_id <= $hi" + extra
        for rollup in EVENT_ROLLUPS:
            select = render(rollup, keys=keys, events_filter=events_filter)
            bound = {**params, "lo": lo, "hi": hi, "view_threshold_ms": view_threshold_ms}
            rows = _insert(con, rollup.name, select, bound)
            summary.rows[rollup.name] = summary.rows.get(rollup.name, 0) + rows
            _report(progress, rollup.name, i + 1, len(ranges))
    for rollup in EVENT_ROLLUPS:
        summary.rows.setdefault(rollup.name, 0)


# The rollups keyed by the events' creators (and their days), and those of the plays by
# each creator's followers, keyed by the creator followed.
EVENT_ROLLUPS: tuple[Rollup, ...] = tuple(r for r in ROLLUPS if r.input != "follower_plays")
WATCH_ROLLUPS: tuple[Rollup, ...] = tuple(r for r in ROLLUPS if r.input == "follower_plays")


def _follower_watch(
    con: duckdb.DuckDBPyConnection,
    keys: str | None,
    params: dict[str, object],
    summary: RefreshSummary,
    progress: Progress | None,
) -> None:
    """Insert the follower-play rollups' rows for the keys `keys` (every row when None),
    through ranges of followed creators."""
    near = ""
    if keys:
        near = (
            " AND e.ts >= $ts_from AND e.ts < $ts_to"
            f" AND e.followed_id IN (SELECT creator_id FROM {keys})"
        )
    ranges = _creator_ranges(con, "true" + near, params, "follower_plays")
    for rollup in WATCH_ROLLUPS:
        summary.rows[rollup.name] = 0
    for i, (lo, hi) in enumerate(ranges):
        events_filter = "e.followed_id >= $lo AND e.followed_id <= $hi" + near
        for rollup in WATCH_ROLLUPS:
            select = render(rollup, keys=keys, events_filter=events_filter)
            summary.rows[rollup.name] += _insert(
                con, rollup.name, select, {**params, "lo": lo, "hi": hi}
            )
            _report(progress, rollup.name, i + 1, len(ranges))


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, select: str, params: dict[str, object]
) -> int:
    """Insert a rollup's rows in the table's `ROW_ORDER` (by creator and day by default)."""
    order = ROW_ORDER.get(table, "creator_id, local_date")
    sql = f"INSERT INTO {table} SELECT * FROM (\n{select}\n) ORDER BY {order}"
    return con.execute(sql, parameters_of(sql, params)).fetchone()[0]


def _viewer_days(
    con: duckdb.DuckDBPyConnection,
    ranges: list[tuple[str, str]],
    first: date | None,
    summary: RefreshSummary,
    progress: Progress | None,
    *,
    only_new: bool = False,
) -> None:
    """Recompute viewer days, and their counts, from the audience rollup just refreshed.

    A changed day changes the links of the viewers whose days on it changed (a property
    or value they had there and no longer have, or the other way round), and of no one
    else: only their rows are recomputed, from the first recomputed day on (every row, when
    `first` is None; their earlier rows keep their links, and the latest of them links the
    first recomputed day). The counts change by the difference between those viewers' old
    and new rows. With `only_new` (the days were dirtied by new events only, see
    `_find_dirty_keys`), only the new plays' viewers (`new_viewers`) are looked at: no
    other viewer's plays changed.
    """
    for table in (VIEWER_DAYS, VIEWER_DAY_COUNTS):
        summary.rows[table] = 0
    if first is None:
        for i, (lo, hi) in enumerate(ranges):
            where = "creator_id >= $lo AND creator_id <= $hi"
            bound = {"lo": lo, "hi": hi}
            select = render_viewer_days(where=where)
            summary.rows[VIEWER_DAYS] += _insert(con, VIEWER_DAYS, select, bound)
            counts = render_viewer_day_counts(where=where)
            summary.rows[VIEWER_DAY_COUNTS] += _insert(con, VIEWER_DAY_COUNTS, counts, bound)
            _report(progress, VIEWER_DAYS, i + 1, len(ranges))
        return
    for i, (lo, hi) in enumerate(ranges):
        bound = {"lo": lo, "hi": hi, "first": first}
        con.execute(_affected_viewers(only_new), {"lo": lo, "hi": hi})
        con.execute(f"CREATE OR REPLACE TEMP TABLE viewer_days_before AS {_OF_AFFECTED}", bound)
        con.execute(f"DELETE FROM {VIEWER_DAYS} WHERE {_FROM_FIRST_OF_AFFECTED}", bound)
        # Their days before the first recomputed one are kept: the latest of them links
        # the first recomputed day to it.
        # Their audience rows read once, not once per viewer property.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE affected_audience AS "
            f"SELECT * FROM rollup_audience_daily WHERE {_FROM_FIRST_OF_AFFECTED}",
            bound,
        )
        days = render_viewer_days(
            source="affected_audience",
            prior=_IN_RANGE_AND_AFFECTED + " AND local_date < $first",
        )
        select = f"SELECT * FROM ({days}) WHERE local_date >= $first"
        summary.rows[VIEWER_DAYS] += _insert(con, VIEWER_DAYS, select, bound)
        con.execute(_COUNT_CHANGES, parameters_of(_COUNT_CHANGES, bound))
        con.execute(_NEW_COUNTS, parameters_of(_NEW_COUNTS, bound))
        con.execute(
            f"DELETE FROM {VIEWER_DAY_COUNTS} c USING count_changes d "
            f"WHERE c.creator_id >= $lo AND c.creator_id <= $hi AND {_SAME_COUNT_KEY}",
            {"lo": lo, "hi": hi},
        )
        summary.rows[VIEWER_DAY_COUNTS] += _insert(
            con, VIEWER_DAY_COUNTS, "SELECT * FROM new_counts WHERE viewers > 0", bound
        )
        _report(progress, VIEWER_DAYS, i + 1, len(ranges))


# The (creator, viewer) pairs of a creator range whose viewer days on a recomputed day
# changed: a (property, value) day they had before (in the viewer days) and no longer have
# (in the audience rollup, already recomputed), or the other way round.
_ON_REFRESHED_DAYS = (
    "creator_id >= $lo AND creator_id <= $hi"
    " AND (creator_id, local_date) IN (SELECT creator_id, local_date FROM refresh_days)"
)
_DAY_ROW = "creator_id, property, value, viewer_pid, local_date"
_AFFECTED_VIEWERS = """
CREATE OR REPLACE TEMP TABLE affected_viewers AS
WITH audience AS MATERIALIZED (SELECT * FROM rollup_audience_daily WHERE {on_days}),
now AS ({now}),
before AS (SELECT {row} FROM {viewer_days} WHERE {on_days})
SELECT DISTINCT creator_id, viewer_pid
FROM ((SELECT * FROM now EXCEPT SELECT * FROM before)
      UNION ALL
      (SELECT * FROM before EXCEPT SELECT * FROM now))
"""
# When only new plays dirtied the days, only their viewers' days can have changed.
_OF_NEW_VIEWERS = (
    " AND (creator_id, viewer_pid) IN (SELECT creator_id, viewer_pid FROM new_viewers)"
)


def _affected_viewers(only_new: bool) -> str:
    on_days = _ON_REFRESHED_DAYS + (_OF_NEW_VIEWERS if only_new else "")
    return _AFFECTED_VIEWERS.format(
        on_days=on_days,
        now=render_viewer_day_rows(source="audience"),
        row=_DAY_ROW,
        viewer_days=VIEWER_DAYS,
    )


_AFFECTED = "SELECT creator_id, viewer_pid FROM affected_viewers"
# The creator range first: the tables are ordered by creator, so its zone maps skip the rest.
_IN_RANGE_AND_AFFECTED = (
    f"creator_id >= $lo AND creator_id <= $hi AND (creator_id, viewer_pid) IN ({_AFFECTED})"
)
# Rows before the first recomputed day keep their links: only the rest are recomputed.
_FROM_FIRST_OF_AFFECTED = _IN_RANGE_AND_AFFECTED + " AND local_date >= $first"
_OF_AFFECTED = f"SELECT * FROM {VIEWER_DAYS} WHERE {_FROM_FIRST_OF_AFFECTED}"
_COUNT_KEY = ("creator_id", "property", "value", "local_date", "prev_date")
_SAME_COUNT_KEY = " AND ".join(f"c.{k} IS NOT DISTINCT FROM d.{k}" for k in _COUNT_KEY)
# The change of each count: the affected viewers' new rows minus their old ones.
_COUNT_CHANGES = f"""
CREATE OR REPLACE TEMP TABLE count_changes AS
SELECT {", ".join(_COUNT_KEY)}, sum(change) AS change
FROM (
    SELECT {", ".join(_COUNT_KEY)}, 1 AS change FROM ({_OF_AFFECTED})
    UNION ALL
    SELECT {", ".join(_COUNT_KEY)}, -1 AS change FROM viewer_days_before
)
GROUP BY ALL
HAVING sum(change) <> 0
"""
_NEW_COUNTS = f"""
CREATE OR REPLACE TEMP TABLE new_counts AS
SELECT {", ".join(f"d.{k}" for k in _COUNT_KEY)}, coalesce(c.viewers, 0) + d.change AS viewers
FROM count_changes d
LEFT JOIN (SELECT * FROM {VIEWER_DAY_COUNTS} WHERE creator_id >= $lo AND creator_id <= $hi) c
  ON {_SAME_COUNT_KEY}
"""


def _liker_accounts(
    con: duckdb.DuckDBPyConnection,
    creators: str | None,
    summary: RefreshSummary,
    progress: Progress | None,
) -> None:
    """Recompute the liker accounts of the creators `creators` selects (all when None),
    from the likes rollup just refreshed."""
    select = render_liker_accounts()
    if creators is not None:
        con.execute(f"DELETE FROM {LIKER_SETTINGS} WHERE creator_id IN ({creators})")
        select = f"SELECT * FROM ({select}) WHERE creator_id IN ({creators})"
    summary.rows[LIKER_SETTINGS] = _insert(con, LIKER_SETTINGS, select, {})
    _report(progress, LIKER_SETTINGS, 1, 1)


def _fold_privacy_changes(con: duckdb.DuckDBPyConnection) -> None:
    """Carry the privacy settings ingest stored since the last refresh (`privacy_changes`,
    which the liker accounts view lays over the stored rows meanwhile) onto the stored
    liker accounts, and empty it."""
    con.execute(
        f"""
        UPDATE {LIKER_SETTINGS} SET is_private = c.is_private
        FROM privacy_changes c
        WHERE {LIKER_SETTINGS}.actor_id = c.account_id
          AND {LIKER_SETTINGS}.is_private IS DISTINCT FROM c.is_private
        """
    )
    con.execute("DELETE FROM privacy_changes")


def _follower_spans(
    con: duckdb.DuckDBPyConnection,
    summary: RefreshSummary,
    progress: Progress | None,
    *,
    force: bool,
) -> None:
    """Recompute the follower spans whole (see rollup.definitions) when a follow or an
    account version arrived since they were computed. Both tables only grow, so their row
    counts tell."""
    seen = con.execute(
        "SELECT (SELECT count(*) FROM follow_log), (SELECT count(*) FROM account_history)"
    ).fetchone()
    if (
        not force
        and con.execute("SELECT follows_seen, accounts_seen FROM rollup_spans_state").fetchone()
        == seen
    ):
        return
    con.execute(f"DELETE FROM {FOLLOWER_SPANS}")
    select = render_follower_spans()
    summary.rows[FOLLOWER_SPANS] = _insert(con, FOLLOWER_SPANS, select, {})
    con.execute("DELETE FROM rollup_spans_state")
    con.execute("INSERT INTO rollup_spans_state VALUES (?, ?)", list(seen))
    _report(progress, FOLLOWER_SPANS, 1, 1)


# --- incremental refresh -------------------------------------------------------------------

# Creators to recompute whole: their time zone changed, or something marked them.
_DIRTY_CREATORS = """
CREATE OR REPLACE TEMP TABLE refresh_creators AS
WITH moved AS (
    SELECT z.creator_id
    FROM rollup_zones z
    LEFT JOIN accounts a ON a.account_id = z.creator_id
    WHERE coalesce(a.timezone, 'UTC') <> z.timezone
),
marked AS (
    SELECT creator_id FROM changed_creators
)
SELECT creator_id FROM moved
UNION
SELECT creator_id FROM marked
"""

_RESIZED_VIDEOS = """
SELECT v.video_id
FROM videos v
JOIN rollup_durations d ON d.video_id = v.video_id
WHERE v.duration_ms <> d.duration_ms
"""


def _refresh(
    con: duckdb.DuckDBPyConnection, view_threshold_ms: int, progress: Progress | None
) -> RefreshSummary:
    summary = RefreshSummary("incremental", "", view_threshold_ms)
    watermark = con.execute("SELECT watermark FROM rollup_state").fetchone()[0]
    summary.new_events = con.execute(
        "SELECT count(*) FROM events WHERE ingested_at > $watermark OR $watermark IS NULL",
        {"watermark": watermark},
    ).fetchone()[0]
    only_new = _find_dirty_keys(con, watermark)
    summary.creators = con.execute("SELECT count(*) FROM refresh_creators").fetchone()[0]
    summary.days = con.execute("SELECT count(*) FROM refresh_days").fetchone()[0]
    watch_days = con.execute("SELECT count(*) FROM refresh_watch_days").fetchone()[0]
    _report(progress, "changes", 1, 1)
    if summary.days == 0 and summary.creators == 0 and watch_days == 0:
        summary.mode = "unchanged"
        _report(progress, "state", 1, 1)
        return summary

    # Whole creators by creator: their rows on days that no longer exist go too. The
    # derived rollups delete their own day keys (see `_viewer_days`).
    for table in (*(r.name for r in ROLLUPS), VIEWER_DAYS, VIEWER_DAY_COUNTS):
        con.execute(
            f"DELETE FROM {table} WHERE creator_id IN (SELECT creator_id FROM refresh_creators)"
        )
    for rollups, keys in ((EVENT_ROLLUPS, "refresh_days"), (WATCH_ROLLUPS, "refresh_watch_days")):
        for rollup in rollups:
            con.execute(
                f"""
                DELETE FROM {rollup.name} t USING {keys} d
                WHERE t.creator_id = d.creator_id AND t.local_date = d.local_date
                """
            )
    if summary.days:
        first, last = con.execute(
            "SELECT min(local_date), max(local_date) FROM refresh_days"
        ).fetchone()
        bounds = _day_bounds(first, last)
        ranges = _creator_ranges(con, _near_days(), bounds)
        _compute(con, ranges, "refresh_days", bounds, view_threshold_ms, summary, progress)
        _viewer_days(con, ranges, first, summary, progress, only_new=only_new)
    if watch_days:
        first, last = con.execute(
            "SELECT min(local_date), max(local_date) FROM refresh_watch_days"
        ).fetchone()
        _follower_watch(con, "refresh_watch_days", _day_bounds(first, last), summary, progress)
    _liker_accounts(
        con,
        "SELECT creator_id FROM refresh_creators UNION SELECT creator_id FROM refresh_days",
        summary,
        progress,
    )

    con.execute(
        """
        DELETE FROM rollup_zones
        WHERE creator_id IN (SELECT creator_id FROM refresh_creators
                             UNION SELECT creator_id FROM refresh_days
                             UNION SELECT creator_id FROM refresh_watch_days)
        """
    )
    con.execute(
        """
        INSERT INTO rollup_zones
        SELECT c.creator_id, coalesce(a.timezone, 'UTC')
        FROM (SELECT creator_id FROM refresh_days
              UNION SELECT creator_id FROM refresh_watch_days) c
        LEFT JOIN accounts a ON a.account_id = c.creator_id
        """
    )
    _report(progress, "state", 1, 1)
    return summary


def _find_dirty_keys(con: duckdb.DuckDBPyConnection, watermark: datetime | None) -> bool:
    """Fill `refresh_creators` and `refresh_days`: every key to recompute, the days of
    whole creators included. Also records the video durations now in force. Whether only
    new events dirtied the keys (no creator recomputed whole, no video resized); then
    `new_viewers` holds the (creator, viewer) pairs of the new plays."""
    con.execute(_DIRTY_CREATORS)
    only_new = watermark is not None
    if watermark is None:
        new_days = _days_of("true")
    else:
        new_days = _days_of("e.ingested_at > $watermark")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE refresh_days AS\n{new_days}",
        parameters_of(new_days, {"watermark": watermark}),
    )
    # Whole creators: every day they have events on in their current time zone. Their rows
    # on days that no longer exist are deleted by creator.
    if con.execute("SELECT count(*) FROM refresh_creators").fetchone()[0]:
        only_new = False
        con.execute(
            "INSERT INTO refresh_days\n"
            + _days_of("e.creator_id IN (SELECT creator_id FROM refresh_creators)")
        )
    if con.execute(_RESIZED_VIDEOS).fetchall():
        only_new = False
        con.execute(
            "INSERT INTO refresh_days\n"
            + _days_of(f"e.type IN ('view', 'like') AND e.video_id IN ({_RESIZED_VIDEOS})")
        )
        con.execute(
            """
            UPDATE rollup_durations SET duration_ms = v.duration_ms FROM videos v
            WHERE rollup_durations.video_id = v.video_id
              AND rollup_durations.duration_ms <> v.duration_ms
            """
        )
    con.execute(
        """
        INSERT INTO rollup_durations
        SELECT video_id, duration_ms FROM videos ANTI JOIN rollup_durations USING (video_id)
        """
    )
    con.execute("CREATE OR REPLACE TEMP TABLE refresh_days AS SELECT DISTINCT * FROM refresh_days")
    if only_new:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE new_viewers AS
            SELECT DISTINCT creator_id, viewer_pid FROM events
            WHERE ingested_at > $watermark AND type = 'view' AND viewer_pid IS NOT NULL
            """,
            {"watermark": watermark},
        )
    # The followed creators' days: quarter hours ingest recorded, and every day of the
    # creators recomputed whole.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE refresh_watch_days AS\n"
        + _days_of(
            "(e.followed_id, e.ts) IN (SELECT followed_id, ts FROM follower_plays_changed)"
            " OR e.followed_id IN (SELECT creator_id FROM refresh_creators)",
            "follower_plays",
        )
    )
    return only_new


def _days_of(events_filter: str, input: str = "events") -> str:
    """The distinct (creator_id, local_date) keys of the input rows meeting `events_filter`."""
    return render_input(
        events_filter=events_filter, select="DISTINCT creator_id, local_date", input=input
    )


def _near_days(since: str = "ts_from") -> str:
    """A cheap pre-filter on events for the keys of `refresh_days`: their creators and a
    UTC window around their days (from parameter `since` to `ts_to`), which zone maps on
    `ts` can prune with."""
    return (
        f"e.ts >= ${since} AND e.ts < $ts_to"
        " AND e.creator_id IN (SELECT creator_id FROM refresh_days)"
    )


def _day_bounds(first: date, last: date) -> dict[str, datetime]:
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return {"ts_from": start - _DAY_MARGIN, "ts_to": end + _DAY_MARGIN}


def _report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
