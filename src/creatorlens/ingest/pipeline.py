"""Ingest: Arrow batches of wire records into the store, checked, pseudonymized, exactly once.

Each batch is one DuckDB transaction: quarantined records, accepted events, follow and LIVE
state and the batch log commit together or not at all, and every insert is an anti-join on
the record's identity. A rerun after a crash (even kill -9) therefore re-reads the file and
stores only what the lost transaction had not committed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from creatorlens.errors import UserError
from creatorlens.ingest.pseudonym import (
    FOLLOWER_SPACE,
    PSEUDONYM_SQL,
    VIEWER_MAC_SQL,
    hmac_pads,
    space_secret,
)
from creatorlens.ingest.readers import (
    BatchReader,
    RejectedLine,
    SourceFile,
    estimate_records,
    open_sources,
)
from creatorlens.ingest.validate import (
    NAMED_TYPES_SQL,
    TYPE_NO_SQL,
    problem_column,
    problem_labels,
    timestamp_sql,
    type_in,
)
from creatorlens.ingest.wire import (
    ANONYMOUS_TYPES,
    ENTITIES,
    ENTITY_FIELDS,
    TARGET_TYPES,
    VIDEO_TYPES,
)
from creatorlens.store import KeyRing, Store, mark_creators_dirty
from creatorlens.store.ages import age_bucket_sql
from creatorlens.store.database import new_profiles, record_keys, same_profile
from creatorlens.store.placement import LIKE_PLAY_WINDOW_DAYS, QUARTER_HOUR_SQL, placement_sql
from creatorlens.store.rooms import RoomBook

IS_ANONYMOUS = type_in(ANONYMOUS_TYPES)

# LIVE presence: the viewer is named while the LIVE runs, never after. Its events keep a
# pseudonym of the viewer in that one LIVE, and the pseudonym's account goes to the LIVE's
# room file beside the store (`store.rooms`), which the retention deletes.
LIVE_PRESENCE_TYPES = ("live_join", "live_leave", "live_comment", "live_gift")
IS_LIVE_PRESENCE = type_in(LIVE_PRESENCE_TYPES)
LIVE_PSEUDONYM_SQL = PSEUDONYM_SQL.format(mac="a.mac", creator="('live ' || c.live_id)")

Progress = Callable[[SourceFile, int, int | None], None]

ORDER = {entity: i for i, entity in enumerate(ENTITIES)}


@dataclass
class IngestSummary:
    """What one ingest did: counts per outcome and quarantine reasons."""

    records: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    files: list[str] = field(default_factory=list)
    rollups: object | None = None  # the rollup refresh that followed, when one ran
    # Asked for by `ingest_batch(..., outcomes=True)`: each record that was not stored as
    # new, as (record number, "dup" or "bad", field, reason).
    outcomes: list[tuple[int, str, str | None, str | None]] | None = None

    def add(self, other: IngestSummary) -> None:
        self.records += other.records
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.reasons.update(other.reasons)
        self.files += other.files


def ingest_paths(
    store: Store,
    paths: Iterable[str | Path | SourceFile],
    *,
    entity: str | None = None,
    batch_rows: int = 750_000,
    progress: Progress | None = None,
) -> IngestSummary:
    """Ingest files, or the data files of directories (accounts first, then videos, then
    events, whatever the order given); sources already opened (`open_sources`) are taken
    as they are."""
    paths = list(paths)
    opened = [p for p in paths if isinstance(p, SourceFile)]
    named = [p for p in paths if not isinstance(p, SourceFile)]
    found = opened + (open_sources(named, entity) if named else [])
    sources = sorted(found, key=lambda s: ORDER[s.entity])
    summary = IngestSummary()
    for source in sources:
        summary.add(ingest_file(store, source, batch_rows=batch_rows, progress=progress))
    return summary


def ingest_file(
    store: Store, source: SourceFile, *, batch_rows: int = 750_000, progress: Progress | None = None
) -> IngestSummary:
    """Ingest one file batch by batch; memory stays bounded by `batch_rows`."""
    total = estimate_records(source) if progress else None
    summary = IngestSummary(files=[source.name])
    reader = BatchReader(source, batch_rows)
    try:
        first_no = 1
        for batch in reader:
            try:
                summary.add(ingest_batch(store, source.entity, batch, source.name, first_no))
            except duckdb.OutOfMemoryException:
                raise UserError(
                    f"{source.path}: out of memory in a batch of {batch.num_rows:,} records; "
                    "lower --batch-rows or raise CREATORLENS_MEMORY_LIMIT"
                ) from None
            first_no += batch.num_rows
            if progress:
                progress(source, first_no - 1, total)
        if reader.rejected:
            summary.add(_quarantine_rejected(store, source, reader))
        if progress and first_no > 1:
            # The total was an estimate; the bar ends at what was actually read.
            progress(source, first_no - 1, first_no - 1)
    finally:
        reader.close()
    return summary


def ingest_batch(
    store: Store,
    entity: str,
    batch: pa.RecordBatch | pa.Table,
    source: str,
    first_no: int = 1,
    *,
    outcomes: bool = False,
) -> IngestSummary:
    """Check, quarantine and store one batch of wire records (all columns text) atomically.

    With `outcomes`, the summary also says what became of each record not stored as new
    (the HTTP collector answers each request of a batch with its own records' fates)."""
    numbered = _numbered(batch, entity, first_no)
    con = store.con
    # DuckDB refuses to register a relation while the connection holds a result not read to
    # its end (a `fetchone()` by whatever ran before on a store kept open); a statement read
    # whole settles it.
    con.execute("SELECT 1").fetchall()
    con.register("incoming", numbered)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            if entity == "events":
                key = KeyRing.load(store.keys_path).active()
                record_keys(con, [key.key_id])
                summary = _store_events(store, key.key_id, key.secret or b"")
            else:
                summary = _store_entity(store, entity)
            if outcomes:
                summary.outcomes = con.execute(
                    "SELECT record_no, status, bad_field, bad_reason FROM checked "
                    "WHERE status <> 'new' ORDER BY record_no"
                ).fetchall()
            _quarantine(store, entity, source)
            con.execute(
                "INSERT INTO ingest_batches VALUES (?, ?, ?, ?, ?, ?, ?, now())",
                [
                    source,
                    entity,
                    first_no,
                    numbered.num_rows,
                    summary.accepted,
                    summary.duplicates,
                    summary.quarantined,
                ],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister("incoming")
        con.execute("DROP TABLE IF EXISTS checked")
        con.execute("DROP TABLE IF EXISTS actors")
        for temp in _EVENT_TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {temp}")
    summary.records = numbered.num_rows
    return summary


def _numbered(batch: pa.RecordBatch | pa.Table, entity: str, first_no: int) -> pa.Table:
    """The batch with exactly the entity's wire columns as text, plus its record numbers."""
    # Chunks are left as the reader made them: DuckDB scans chunked columns just as well,
    # and combining them would copy the whole batch.
    table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
    n = table.num_rows
    columns = {}
    for name in ENTITY_FIELDS[entity]:
        if name in table.column_names:
            col = table.column(name)
            columns[name] = col if col.type == pa.string() else col.cast(pa.string())
        else:
            columns[name] = pa.nulls(n, pa.string())
    columns["record_no"] = pa.array(np.arange(first_no, first_no + n, dtype=np.int64))
    return pa.table(columns)


# --- events -------------------------------------------------------------------------------

# `checked` carries on the wire columns the store keeps, so storing reads it alone rather
# than joining back to `incoming` (such a join costs more than carrying the columns). The
# texts that are stored parsed are left out; only quarantine needs them, for bad records.
_CHECK_EVENTS = f"""
CREATE OR REPLACE TEMP TABLE checked AS
WITH parsed AS (
    SELECT i.*,
           {timestamp_sql("i.ts")} AS ts_parsed,
           {TYPE_NO_SQL} AS type_no,
           TRY_CAST(i.watched_ms AS BIGINT) AS watched_parsed,
           TRY_CAST(i.gift_value AS DOUBLE) AS gift_parsed,
           v.creator_id AS video_creator
    FROM incoming i
    LEFT JOIN videos v ON v.video_id = i.video_id
),
judged AS (
    SELECT *, {problem_column("events")} FROM parsed
),
stored AS (
    SELECT e.event_id FROM events e SEMI JOIN incoming i ON e.event_id = i.event_id
),
-- Ids seen more than once in the batch; grouping keeps only those, so the join below is
-- against a tiny table. Which of their records wins is settled by `_REPEATS`.
repeated AS (
    SELECT event_id FROM incoming GROUP BY event_id HAVING count(*) > 1
)
SELECT j.* EXCLUDE (video_creator, ts, watched_ms, gift_value),
       {problem_labels("events", "j.problem")},
       CASE WHEN {type_in(VIDEO_TYPES, "j.type_no")} THEN j.video_creator
            WHEN {type_in(TARGET_TYPES, "j.type_no")} THEN j.target_id END AS creator,
       CASE WHEN j.problem IS NOT NULL THEN 'bad'
            WHEN s.event_id IS NOT NULL THEN 'dup'
            ELSE 'new' END AS status,
       r.event_id IS NOT NULL AS repeated
FROM judged j
LEFT JOIN stored s ON s.event_id = j.event_id
LEFT JOIN repeated r ON r.event_id = j.event_id
"""

# Repeats inside the batch: the first good record of an event_id wins. Done apart from
# `_CHECK_EVENTS` because that needs every record's verdict, which in one statement would
# make DuckDB materialize the whole judged batch a second time.
_REPEATS = """
UPDATE checked SET status = 'dup'
WHERE repeated AND status = 'new' AND record_no NOT IN (
    SELECT min(record_no) FROM checked WHERE repeated AND status = 'new' GROUP BY event_id)
"""

_FOLLOWS = """
INSERT INTO follow_log
SELECT actor_id, target_id, ts_parsed, type = 'follow'
FROM checked WHERE status = 'new' AND type IN ('follow', 'unfollow')
"""

_LIVES = """
INSERT INTO lives
SELECT live_id, arg_min(actor_id, record_no), min(ts_parsed)
FROM checked
WHERE status = 'new' AND type = 'live_start'
  AND live_id NOT IN (SELECT live_id FROM lives)
GROUP BY live_id
"""

# Each distinct actor of the batch, once: its account attributes and its viewer HMAC (the
# HMAC runs once per actor, never once per event). Its profile number is set next.
_ACTORS = f"""
CREATE OR REPLACE TEMP TABLE actors AS
SELECT c.actor_id, {VIEWER_MAC_SQL.format(viewer="c.actor_id")} AS mac,
       a.birth_year, a.gender, a.country, a.city, a.language, a.analytics_opt_out,
       NULL::INTEGER AS profile_id
FROM (SELECT DISTINCT actor_id FROM checked WHERE status = 'new') c
LEFT JOIN accounts a ON a.account_id = c.actor_id
"""

# The batch's actors' combinations of attributes not seen before get the next numbers.
_NEW_PROFILES = new_profiles("actors")

_ACTOR_PROFILES = f"""
UPDATE actors SET profile_id = p.profile_id
FROM actor_profiles p
WHERE {same_profile("p", "actors")}
"""

# Ages by the year of the event in UTC (the store's time zone), taken from the epoch:
# year() of a TIMESTAMPTZ goes through the time zone library, which costs more per event.
_AGE_BUCKET = age_bucket_sql("age")

# Follower status at the event's time. Only events whose (actor, creator) pair has any
# follow history need the as-of lookup; every other actor was not a follower.
_FOLLOWER_AT_EVENT = """
CREATE OR REPLACE TEMP TABLE follower_at_event AS
SELECT c.record_no, f.following
FROM (SELECT record_no, actor_id, creator, ts_parsed FROM checked
      WHERE status = 'new' AND (actor_id, creator) IN (
          SELECT (follower_id, followee_id) FROM follow_log)) c
ASOF JOIN follow_log f
       ON f.follower_id = c.actor_id AND f.followee_id = c.creator AND c.ts_parsed >= f.ts
"""

# For every new play, each creator its viewer followed at that moment gets the play in
# `follower_plays`, under the follower's pseudonym in the follower space (its HMAC made
# once per follower of the batch, with the space's key), merged per quarter hour. Only
# pairs with follow history join. Each play's own columns ride through the grouping
# instead of being joined back.
_FOLLOWER_PLAYS = f"""
CREATE OR REPLACE TEMP TABLE new_follower_plays AS
WITH plays AS (
    SELECT record_no, actor_id, ts_parsed, video_id, watched_parsed
    FROM checked
    WHERE status = 'new' AND {type_in(("view",), "type_no")}
      AND actor_id IN (SELECT follower_id FROM follow_log)
),
state AS (
    SELECT f.followee_id, any_value(p.actor_id) AS actor_id, any_value(p.video_id) AS video_id,
           any_value(p.ts_parsed) AS ts, any_value(p.watched_parsed) AS watched_ms,
           arg_max(f.following, f.ts) AS following
    FROM plays p JOIN follow_log f ON f.follower_id = p.actor_id AND f.ts <= p.ts_parsed
    GROUP BY p.record_no, f.followee_id
),
followers AS (
    SELECT a.actor_id, {VIEWER_MAC_SQL.format(viewer="a.actor_id")} AS mac,
           coalesce(a.analytics_opt_out, false) AS opt_out
    FROM actors a WHERE a.actor_id IN (SELECT actor_id FROM state WHERE following)
)
SELECT s.followee_id AS followed_id, s.video_id, {QUARTER_HOUR_SQL.format(ts="s.ts")} AS ts,
       {PSEUDONYM_SQL.format(mac="f.mac", creator="s.followee_id")} AS follower_pid,
       $key_id AS key_id, count(*) AS plays, sum(s.watched_ms) AS watched_ms,
       bool_or(f.opt_out) AS opt_out
FROM state s JOIN followers f ON f.actor_id = s.actor_id
WHERE s.following
GROUP BY ALL
"""

# Written as the grouping left them (hash order), which is not the order of the events.
_STORE_FOLLOWER_PLAYS = """
INSERT INTO follower_plays SELECT * FROM new_follower_plays;
INSERT INTO follower_plays_changed SELECT DISTINCT followed_id, ts FROM new_follower_plays;
"""

# Each new like and comment with its actor's anonymous-space pseudonym, which the store
# never keeps on the event: likes are placed by the liker's play with it, and the engaged
# audience counts it (`engagement_marks`).
_ENGAGED = """
CREATE OR REPLACE TEMP TABLE engaged AS
SELECT c.record_no, c.type, c.creator AS creator_id, c.video_id, c.ts_parsed, c.actor_id,
       {pid} AS pid
FROM checked c JOIN actors a ON a.actor_id = c.actor_id
WHERE c.status = 'new' AND c.type IN ('like', 'comment')
  AND c.creator IS NOT NULL AND c.video_id IS NOT NULL
""".format(pid=PSEUDONYM_SQL.format(mac="a.mac", creator="c.creator"))

# Each new like placed by the liker's play (store.placement): plays stored before this
# batch (read by the likers' pseudonyms over the window before the batch's likes) and the
# batch's own plays by the same actors.
_PLACED = f"""
CREATE OR REPLACE TEMP TABLE placed AS
WITH likes AS (
    SELECT record_no AS like_no, creator_id, video_id, pid, epoch_ms(ts_parsed) AS at_ms
    FROM engaged WHERE type = 'like'
),
plays AS (
    SELECT e.creator_id, e.video_id, e.viewer_pid AS pid, epoch_ms(e.ts) AS start_ms,
           epoch_ms(e.ts) + e.watched_ms AS end_ms
    FROM events e
    WHERE e.type = 'view' AND e.ts >= $plays_from AND e.ts <= $plays_to
      AND e.viewer_pid IN (SELECT pid FROM likes)
    UNION ALL
    SELECT c.creator, c.video_id, {PSEUDONYM_SQL.format(mac="a.mac", creator="c.creator")},
           epoch_ms(c.ts_parsed), epoch_ms(c.ts_parsed) + c.watched_parsed
    FROM checked c JOIN actors a ON a.actor_id = c.actor_id
    WHERE c.status = 'new' AND {type_in(("view",), "c.type_no")} AND c.creator IS NOT NULL
      AND (c.actor_id, c.video_id) IN (
          SELECT (actor_id, video_id) FROM engaged WHERE type = 'like')
)
{placement_sql("likes", "plays")}
"""

_MARKS = f"""
INSERT INTO engagement_marks
SELECT creator_id, video_id, {QUARTER_HOUR_SQL.format(ts="ts_parsed")}, pid, $key_id, type
FROM engaged
ORDER BY pid
"""

# Anonymous-class events get the actor's per-creator pseudonym in place of the actor id;
# named events keep the actor id and no pseudonym, so no stored row links the two. The
# per-creator hash runs per event: most (creator, actor) pairs of a batch occur once, so
# finding the distinct pairs first and joining them back would cost more than it saves.
_INSERT_EVENTS = f"""
INSERT INTO events
SELECT c.event_id,
       c.type,
       c.ts_parsed,
       coalesce(c.creator, l.creator_id),
       CASE WHEN NOT {IS_ANONYMOUS} AND NOT {IS_LIVE_PRESENCE} THEN c.actor_id END,
       c.pid,
       CASE WHEN c.pid IS NOT NULL THEN $key_id END,
       c.video_id,
       c.watched_parsed,
       c.source,
       c.channel,
       c.comment_id,
       c.text,
       c.reply_to,
       c.target_id,
       c.new_video_id,
       c.live_id,
       c.gift_parsed,
       {_AGE_BUCKET},
       c.profile_id,
       coalesce(c.analytics_opt_out, false),
       coalesce(f.following, false),
       now(),
       p.play_position_ms
FROM (
    SELECT c.*, a.profile_id, a.analytics_opt_out,
           CASE WHEN c.creator IS NOT NULL AND {IS_ANONYMOUS}
                THEN {PSEUDONYM_SQL.format(mac="a.mac", creator="c.creator")}
                WHEN {IS_LIVE_PRESENCE} AND c.live_id IS NOT NULL
                THEN {LIVE_PSEUDONYM_SQL} END AS pid,
           year(make_timestamp(epoch_us(c.ts_parsed))) - a.birth_year AS age
    FROM checked c
    LEFT JOIN actors a ON a.actor_id = c.actor_id
    WHERE c.status = 'new'
) c
LEFT JOIN follower_at_event f ON f.record_no = c.record_no
LEFT JOIN lives l ON l.live_id = c.live_id
LEFT JOIN {{placed}} p ON p.like_no = c.record_no
"""

_EVENT_TEMP_TABLES = (
    "checked", "actors", "follower_at_event", "new_follower_plays", "engaged", "placed"
)  # fmt: skip

_UNQUARANTINE = """
DELETE FROM quarantine
WHERE entity = 'events'
  AND event_id IN (SELECT event_id FROM checked WHERE status = 'new')
"""


def _store_events(store: Store, key_id: str, secret: bytes) -> IngestSummary:
    con = store.con
    ipad, opad = hmac_pads(secret)
    con.execute(_CHECK_EVENTS)
    con.execute(_REPEATS)
    con.execute(_FOLLOWS)
    con.execute(_LIVES)
    con.execute(_ACTORS, {"ipad": ipad, "opad": opad})
    con.execute(_NEW_PROFILES)
    con.execute(_ACTOR_PROFILES)
    con.execute(_FOLLOWER_AT_EVENT)
    fipad, fopad = hmac_pads(space_secret(secret, FOLLOWER_SPACE))
    con.execute(_FOLLOWER_PLAYS, {"ipad": fipad, "opad": fopad, "key_id": key_id})
    con.execute(_STORE_FOLLOWER_PLAYS)
    placed = _engagement(store, key_id)
    _record_rooms(store)
    con.execute(_INSERT_EVENTS.format(placed=placed), {"key_id": key_id})
    con.execute(_UNQUARANTINE)
    return _outcomes(store)


_ROOM_ROWS = f"""
SELECT DISTINCT c.live_id, {LIVE_PSEUDONYM_SQL}, c.actor_id
FROM checked c JOIN actors a ON a.actor_id = c.actor_id
WHERE c.status = 'new' AND {IS_LIVE_PRESENCE} AND c.live_id IS NOT NULL
"""


def _record_rooms(store: Store) -> None:
    """Write the batch's LIVE viewers to their rooms' files, before the events commit."""
    rows = store.con.execute(_ROOM_ROWS).fetchall()
    if rows:
        RoomBook(store.path).add(rows)


def _engagement(store: Store, key_id: str) -> str:
    """Mark the batch's likes and comments, place its likes; the relation of placed likes
    (`like_no`, `play_position_ms`) for the events insert."""
    con = store.con
    con.execute(_ENGAGED)
    first, last = con.execute(
        "SELECT min(ts_parsed), max(ts_parsed) FROM engaged WHERE type = 'like'"
    ).fetchone()
    if first is None:
        con.execute(_MARKS, {"key_id": key_id})
        return "(SELECT NULL::BIGINT AS like_no, NULL::BIGINT AS play_position_ms WHERE false)"
    window = timedelta(days=LIKE_PLAY_WINDOW_DAYS)
    con.execute(_PLACED, {"plays_from": first - window, "plays_to": last})
    con.execute(_MARKS, {"key_id": key_id})
    return "placed"


def _outcomes(store: Store) -> IngestSummary:
    summary = IngestSummary()
    for status, bad_field, bad_reason, n in store.con.execute(
        "SELECT status, bad_field, bad_reason, count(*) FROM checked GROUP BY ALL"
    ).fetchall():
        if status == "new":
            summary.accepted += n
        elif status == "dup":
            summary.duplicates += n
        else:
            summary.quarantined += n
            summary.reasons[(bad_field, bad_reason)] += n
    return summary


# --- accounts and videos -------------------------------------------------------------------

_ACCOUNT_VALUES = """
account_id, kind, TRY_CAST(is_private AS BOOLEAN) AS is_private,
TRY_CAST(birth_year AS SMALLINT) AS birth_year, gender, country, city, language,
coalesce(timezone, 'UTC') AS timezone, TRY_CAST(analytics_opt_out AS BOOLEAN) AS analytics_opt_out,
created_parsed AS created_at, coalesce(updated_parsed, now()) AS updated_at
"""

_VIDEO_VALUES = """
video_id, creator_id, posted_parsed AS posted_at, TRY_CAST(duration_ms AS BIGINT) AS duration_ms,
caption, hashtags_parsed AS hashtags, sound_id, category,
coalesce(updated_parsed, now()) AS updated_at
"""

_HASHTAGS = """
CASE WHEN hashtags IS NULL THEN NULL
     WHEN json_valid(hashtags)
          THEN TRY_CAST(json_transform_strict(hashtags, '["VARCHAR"]') AS VARCHAR[])
     ELSE list_filter(list_transform(regexp_split_to_array(hashtags, '[\\s,|]+'),
                                     lambda t: ltrim(t, '#')), lambda t: t <> '') END
"""

_ENTITY = {
    "accounts": {
        "key": "account_id",
        "parsed": f"{timestamp_sql('created_at')} AS created_parsed, "
        f"{timestamp_sql('updated_at')} AS updated_parsed",
        "values": _ACCOUNT_VALUES,
    },
    "videos": {
        "key": "video_id",
        "parsed": f"{timestamp_sql('posted_at')} AS posted_parsed, "
        f"{timestamp_sql('updated_at')} AS updated_parsed, {_HASHTAGS} AS hashtags_parsed",
        "values": _VIDEO_VALUES,
    },
}


def _store_entity(store: Store, entity: str) -> IngestSummary:
    """Upsert accounts or videos: the newest version (by updated_at, then arrival) wins."""
    spec = _ENTITY[entity]
    key = spec["key"]
    con = store.con
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE checked AS
        WITH parsed AS (SELECT *, {spec["parsed"]} FROM incoming),
        judged AS (SELECT *, {problem_column(entity)} FROM parsed)
        SELECT *, {problem_labels(entity)},
               CASE WHEN problem IS NULL THEN 'new' ELSE 'bad' END AS status
        FROM judged
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE latest AS
        SELECT {spec["values"]} FROM checked WHERE status = 'new'
        QUALIFY row_number() OVER (
            PARTITION BY {key} ORDER BY coalesce(updated_parsed, now()) DESC, record_no DESC) = 1
        """
    )
    columns = [row[0] for row in con.execute("DESCRIBE latest").fetchall()]
    # A record equal to what is stored is a duplicate, not a change.
    con.execute(
        f"""
        UPDATE checked SET status = 'dup'
        WHERE status = 'new' AND {key} IN (
            SELECT {key} FROM (
                SELECT * EXCLUDE (updated_at) FROM latest
                INTERSECT
                SELECT * EXCLUDE (updated_at) FROM {entity}))
        """
    )
    changed_opt_out = []
    if entity == "accounts":
        _record_privacy_changes(con)
        changed_opt_out = con.execute(
            """
            SELECT l.account_id, l.analytics_opt_out FROM latest l
            JOIN accounts a USING (account_id)
            WHERE l.analytics_opt_out IS DISTINCT FROM a.analytics_opt_out
              AND l.updated_at >= a.updated_at
            """
        ).fetchall()
        con.execute(
            """
            INSERT INTO account_history
            SELECT *, now() FROM (SELECT * FROM latest
                                  EXCEPT SELECT * EXCLUDE (received_at) FROM account_history)
            """
        )
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    con.execute(
        f"""
        INSERT INTO {entity} SELECT * FROM latest
        ON CONFLICT ({key}) DO UPDATE SET {updates}
        WHERE excluded.updated_at >= {entity}.updated_at
        """
    )
    if entity == "accounts":
        con.execute(_PRIVACY_IN_FORCE)
        con.execute("DROP TABLE privacy_changed")
    con.execute("DROP TABLE latest")
    if changed_opt_out:
        _apply_opt_out_changes(store, changed_opt_out)
    return _outcomes(store)


def _record_privacy_changes(con: duckdb.DuckDBPyConnection) -> None:
    """Note the accounts of `latest` whose privacy setting the upsert may change (new ones
    included), before it runs; `_PRIVACY_IN_FORCE` records the setting stored after it."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE privacy_changed AS
        SELECT l.account_id FROM latest l LEFT JOIN accounts a USING (account_id)
        WHERE a.account_id IS NULL
           OR (l.is_private IS DISTINCT FROM a.is_private AND l.updated_at >= a.updated_at)
        """
    )


# The likers rule reads `privacy_changes` over the liker accounts, so an account that turns
# private stops being named at once, not at the next rollup refresh (which folds them in).
_PRIVACY_IN_FORCE = """
DELETE FROM privacy_changes WHERE account_id IN (SELECT account_id FROM privacy_changed);
INSERT INTO privacy_changes
SELECT a.account_id, a.is_private FROM accounts a
WHERE a.account_id IN (SELECT account_id FROM privacy_changed);
"""


def _apply_opt_out_changes(store: Store, changes: list[tuple[str, bool]]) -> None:
    """Carry an account's new opt-out choice onto its past rows, named or pseudonymous.

    Named events are found by the account id; pseudonymous events and its plays as a
    follower (`follower_plays`) by recomputing its pseudonyms for every creator under
    every key that still exists. Rows made under a destroyed key cannot be found, which is
    the point of destroying it. The creators whose past rows changed are marked for the
    rollup refresh.
    """
    con = store.con
    con.register(
        "opt_out_changes",
        pa.table({"account_id": [a for a, _ in changes], "opt_out": [o for _, o in changes]}),
    )
    try:
        touched = con.execute(
            """
            UPDATE events SET actor_opt_out = c.opt_out FROM opt_out_changes c
            WHERE events.actor_id = c.account_id
            RETURNING events.creator_id
            """
        ).fetchall()
        mark_creators_dirty(con, {c for (c,) in touched})
        for key in KeyRing.load(store.keys_path).usable():
            for table, creator, pid, opt_out in _PSEUDONYMOUS_ROWS:
                secret = key.secret or b""
                if table == "follower_plays":
                    secret = space_secret(secret, FOLLOWER_SPACE)
                ipad, opad = hmac_pads(secret)
                mac = VIEWER_MAC_SQL.format(viewer="c.account_id")
                con.execute(
                    f"""
                    CREATE OR REPLACE TEMP TABLE opt_out_pids AS
                    SELECT k.creator_id, c.opt_out,
                           {PSEUDONYM_SQL.format(mac=mac, creator="k.creator_id")} AS pid
                    FROM (SELECT DISTINCT {creator} AS creator_id FROM {table}
                          WHERE key_id = $key_id) k,
                         opt_out_changes c
                    """,
                    {"ipad": ipad, "opad": opad, "key_id": key.key_id},
                )
                touched = con.execute(
                    f"""
                    UPDATE {table} SET {opt_out} = m.opt_out FROM opt_out_pids m
                    WHERE {table}.key_id = $key_id AND {table}.{creator} = m.creator_id
                      AND {table}.{pid} = m.pid
                    RETURNING {table}.{creator}
                    """,
                    {"key_id": key.key_id},
                ).fetchall()
                # Past days of these creators changed in place: their rollups must be redone.
                mark_creators_dirty(con, {c for (c,) in touched})
        con.execute("DROP TABLE IF EXISTS opt_out_pids")
    finally:
        con.unregister("opt_out_changes")


# The tables holding rows under an account's pseudonyms that carry its opt-out: (table,
# its creator column, its pseudonym column, its opt-out column).
_PSEUDONYMOUS_ROWS = (
    ("events", "creator_id", "viewer_pid", "actor_opt_out"),
    ("follower_plays", "followed_id", "follower_pid", "opt_out"),
)


# --- quarantine ----------------------------------------------------------------------------


def _quarantine(store: Store, entity: str, source: str) -> None:
    """Keep every bad record with its reason; never the actor id of an anonymous event."""
    fields = [f for f in ENTITY_FIELDS[entity] if f != "actor_id"]
    record = ", ".join(f"'{f}': i.{f}" for f in fields)
    if entity == "events":
        record += f", 'actor_id': CASE WHEN i.type IN {NAMED_TYPES_SQL} THEN i.actor_id END"
        event_cols = "i.event_id, i.type"
    else:
        event_cols = "NULL, NULL"
    identity = " || chr(31) || ".join(f"coalesce(i.{f}, chr(30))" for f in fields)
    store.con.execute(
        f"""
        INSERT INTO quarantine
        SELECT q.* FROM (
            SELECT md5({identity} || chr(31) || i.record_no::VARCHAR) AS quarantine_id,
                   '{entity}', $source, i.record_no, {event_cols}, c.bad_field, c.bad_reason,
                   to_json({{{record}}})::VARCHAR, now()
            FROM checked c JOIN incoming i ON i.record_no = c.record_no
            WHERE c.status = 'bad') q
        ANTI JOIN quarantine USING (quarantine_id)
        """,
        {"source": source},
    )


def _quarantine_rejected(store: Store, source: SourceFile, reader: BatchReader) -> IngestSummary:
    """Quarantine lines the file reader could not even split into fields."""
    return quarantine_unreadable(
        store, source.entity, source.name, source.path.name, reader.rejected
    )


def quarantine_unreadable(
    store: Store, entity: str, source: str, name: str, lines: Iterable[RejectedLine]
) -> IngestSummary:
    """Quarantine records that are not records at all (a line of a file, or of a request
    body, that cannot be read as fields), by their position only; `name` with the position
    identifies each, so a record sent again is quarantined once."""
    summary = IngestSummary()
    con = store.con
    for line in lines:
        qid = f"{name}:{line.record_no}"
        con.execute(
            """
            INSERT INTO quarantine
            SELECT md5($qid), $entity, $source, $no, NULL, NULL, 'record', $reason, NULL, now()
            WHERE md5($qid) NOT IN (SELECT quarantine_id FROM quarantine)
            """,
            {
                "qid": qid,
                "entity": entity,
                "source": source,
                "no": line.record_no,
                "reason": line.reason,
            },
        )
        summary.records += 1
        summary.quarantined += 1
        summary.reasons[("record", line.reason)] += 1
    return summary
