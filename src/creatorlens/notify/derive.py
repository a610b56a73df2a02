"""The notification tables, derived from the stored events and kept up to date incrementally.

A notification is a group of events of one kind about one creator: likes, follows, duets
and stitches of one video (follows: of the creator) within one window of `WINDOW_S`
seconds (UTC-aligned), or one comment or mention on its own (they carry a text). Its
people are the distinct accounts that acted, so an event sent again (the store keeps it
once) or a second like by the same account never counts twice; replaying the events
rebuilds the same notifications.

`notify_actors` keeps each group's accounts (the latest act of each, with its text);
`notify_groups` one row per group, with its newest instant, which orders the feed. A
refresh folds in the events ingested since its watermark; a store whose events do not
match what the watermark saw (events ingested late below it) is derived again whole.
"""

from __future__ import annotations

from typing import Any

# Events grouped per (kind, video, window); the others are one notification each.
GROUPED_KINDS = ("like", "follow", "duet", "stitch")
SINGLE_KINDS = ("comment", "mention")
KINDS = GROUPED_KINDS + SINGLE_KINDS
WINDOW_S = 3_600

_KINDS_SQL = "(" + ", ".join(f"'{k}'" for k in KINDS) + ")"
_GROUPED_SQL = "(" + ", ".join(f"'{k}'" for k in GROUPED_KINDS) + ")"

TABLES = """
CREATE TABLE IF NOT EXISTS notify_actors (
    creator_id VARCHAR NOT NULL,
    group_id   VARCHAR NOT NULL,
    actor_id   VARCHAR NOT NULL,
    at_ms      BIGINT NOT NULL,   -- the actor's latest act in the group
    text       VARCHAR            -- a comment's or mention's text
);
CREATE TABLE IF NOT EXISTS notify_groups (
    creator_id VARCHAR NOT NULL,
    group_id   VARCHAR NOT NULL,  -- kind:video:window, or kind:event_id
    kind       VARCHAR NOT NULL,
    video_id   VARCHAR,
    at_ms      BIGINT NOT NULL,   -- the group's newest act: orders the feed
    actors     BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS notify_state (
    watermark  TIMESTAMPTZ,       -- newest events.ingested_at folded in
    seen       BIGINT NOT NULL    -- events of the kinds with ingested_at <= watermark, then
);
-- The insights' virality alerts, kept once per video and alert window (`notify.alerts`),
-- with the figures as the insights released them when the alert was first seen.
CREATE TABLE IF NOT EXISTS notify_alerts (
    creator_id     VARCHAR NOT NULL,
    group_id       VARCHAR NOT NULL,  -- virality:video:window
    video_id       VARCHAR NOT NULL,
    at_ms          BIGINT NOT NULL,   -- the end of the latest hour the alert was seen in
    window_hours   INTEGER NOT NULL,
    views          BIGINT NOT NULL,   -- in the video's latest window_hours hours
    shares         BIGINT NOT NULL,
    usual_views    DOUBLE NOT NULL,   -- the creator's videos at the same age (median)
    usual_shares   DOUBLE NOT NULL,
    PRIMARY KEY (creator_id, group_id)
);
-- Each creator's notifications read up to (at_ms, group_id), in feed order.
CREATE TABLE IF NOT EXISTS notification_reads (
    creator_id VARCHAR NOT NULL,
    at_ms      BIGINT NOT NULL,
    group_id   VARCHAR NOT NULL
);
"""

# The notifiable events ingested after the watermark, as rows of `notify_actors`. A creator
# acting on their own content notifies nobody.
_NEW_ROWS = f"""
CREATE OR REPLACE TEMP TABLE notify_new AS
SELECT creator_id,
       CASE WHEN type IN {_GROUPED_SQL}
            THEN type || ':' || coalesce(video_id, '') || ':'
                 || (epoch(ts)::BIGINT // {WINDOW_S})::VARCHAR
            ELSE type || ':' || event_id END AS group_id,
       type AS kind, video_id, actor_id, epoch_ms(ts) AS at_ms, text
FROM events
WHERE type IN {_KINDS_SQL} AND creator_id IS NOT NULL AND actor_id IS NOT NULL
  AND actor_id <> creator_id
  AND ($watermark::TIMESTAMPTZ IS NULL OR ingested_at > $watermark::TIMESTAMPTZ)
  AND ingested_at <= $upto::TIMESTAMPTZ
"""

_MERGE = """
CREATE OR REPLACE TEMP TABLE notify_touched AS
SELECT DISTINCT creator_id, group_id, kind, video_id FROM notify_new;

CREATE OR REPLACE TEMP TABLE notify_merged AS
SELECT creator_id, group_id, actor_id, max(at_ms) AS at_ms, arg_max(text, at_ms) AS text
FROM (
    SELECT a.* FROM notify_actors a
    SEMI JOIN notify_touched t ON t.creator_id = a.creator_id AND t.group_id = a.group_id
    UNION ALL
    SELECT creator_id, group_id, actor_id, at_ms, text FROM notify_new
)
GROUP BY creator_id, group_id, actor_id;

DELETE FROM notify_actors a USING notify_touched t
WHERE t.creator_id = a.creator_id AND t.group_id = a.group_id;
INSERT INTO notify_actors SELECT * FROM notify_merged ORDER BY creator_id, group_id;

DELETE FROM notify_groups g USING notify_touched t
WHERE t.creator_id = g.creator_id AND t.group_id = g.group_id;
INSERT INTO notify_groups
SELECT m.creator_id, m.group_id, t.kind, t.video_id, max(m.at_ms), count(*)
FROM notify_merged m
JOIN (SELECT creator_id, group_id, any_value(kind) AS kind, any_value(video_id) AS video_id
      FROM notify_touched GROUP BY ALL) t
  ON t.creator_id = m.creator_id AND t.group_id = m.group_id
GROUP BY m.creator_id, m.group_id, t.kind, t.video_id
ORDER BY m.creator_id, max(m.at_ms);

DROP TABLE notify_new; DROP TABLE notify_touched; DROP TABLE notify_merged;
"""

_SEEN = f"""
SELECT count(*) FROM events
WHERE type IN {_KINDS_SQL} AND ingested_at <= $watermark::TIMESTAMPTZ
"""


def create_tables(con: Any) -> None:
    con.execute(TABLES)


def refresh_notifications(store: Any) -> int:
    """Fold the events ingested since the last refresh into the notification tables, in one
    transaction, on the store's write connection; how many event rows were folded in."""
    con = store.con
    create_tables(con)
    con.execute("BEGIN TRANSACTION")
    try:
        state = con.execute("SELECT watermark, seen FROM notify_state").fetchone()
        watermark = state[0] if state else None
        if state and con.execute(_SEEN, {"watermark": watermark}).fetchone()[0] != state[1]:
            # Events appeared (or went) below the watermark: derive everything again.
            con.execute("DELETE FROM notify_actors; DELETE FROM notify_groups")
            watermark = None
        upto = con.execute("SELECT max(ingested_at) FROM events").fetchone()[0]
        if upto is None or (watermark is not None and upto <= watermark):
            con.execute("COMMIT")
            return 0
        con.execute(_NEW_ROWS, {"watermark": watermark, "upto": upto})
        folded = con.execute("SELECT count(*) FROM notify_new").fetchone()[0]
        con.execute(_MERGE)
        seen = con.execute(_SEEN, {"watermark": upto}).fetchone()[0]
        con.execute("DELETE FROM notify_state")
        con.execute("INSERT INTO notify_state VALUES ($w, $s)", {"w": upto, "s": seen})
        con.execute("COMMIT")
        return int(folded)
    except BaseException:
        con.execute("ROLLBACK")
        raise
