"""Platform-wide figures the insights compare with, kept beside the rollups (issue 18).

Trending sounds and hashtags and the niche benchmark compare a creator with every other
creator: read from the hourly rollup at every request, that is a scan of the whole
platform's last five weeks (half a second at 10M events). So `refresh_platform` computes
them at refresh, for the platform's latest day (the newest local day in the rollups):

- `platform_trending`: per sound and hashtag, the creators who used it (a video with it
  viewed or posted) in the 35 days, its views in the last 7 days and the 28 before, and
  the videos posted with it in each span;
- `platform_creators`: per creator or business account, over the last 28 days, the most
  common category of their videos, followers at the end, views, engagements (likes net
  of unlikes, comments, shares), videos viewed, and net followers.

They are recomputed when the latest day moved or after `MAX_AGE_MINUTES`. These are
true counts of other creators: only the release stage (`privacy.insights`) reads them
out, as thresholded lists and percentiles.

`refresh_insights(store)` is the hook a refresh calls: the comment sentiment, then these.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from creatorlens.rollup.sentiment import refresh_sentiment
from creatorlens.store import Store
from creatorlens.store.database import has_table

TRENDING = "platform_trending"
CREATORS = "platform_creators"
RECENT_DAYS = 7
BEFORE_DAYS = 28
NICHE_DAYS = 28
MAX_AGE_MINUTES = 15

TRENDING_SQL = """
WITH per_video AS (
    SELECT video_id,
           coalesce(sum(views) FILTER (local_date > $mid), 0) AS recent,
           coalesce(sum(views) FILTER (local_date <= $mid), 0) AS before
    FROM rollup_video_hourly
    WHERE local_date BETWEEN $start AND $end
    GROUP BY video_id
),
used AS (
    -- Every video with a tag viewed or posted in the window.
    SELECT v.video_id, v.creator_id, v.hashtags, v.sound_id,
           coalesce(p.recent, 0) AS recent, coalesce(p.before, 0) AS before,
           CAST(v.posted_at AS DATE) > $mid AS posted_recent,
           CAST(v.posted_at AS DATE) BETWEEN $start AND $mid AS posted_before
    FROM videos v LEFT JOIN per_video p USING (video_id)
    WHERE p.video_id IS NOT NULL OR CAST(v.posted_at AS DATE) BETWEEN $start AND $end
),
tagged AS (
    SELECT 'hashtag' AS kind, unnest(hashtags) AS name, * EXCLUDE (hashtags, sound_id)
    FROM used
    UNION ALL
    SELECT 'sound', sound_id, * EXCLUDE (hashtags, sound_id) FROM used WHERE sound_id IS NOT NULL
)
SELECT kind, name, count(DISTINCT creator_id) AS creators, sum(recent) AS views_recent,
       sum(before) AS views_before, count(*) FILTER (posted_recent) AS videos_recent,
       count(*) FILTER (posted_before) AS videos_before
FROM tagged GROUP BY kind, name
"""

CREATORS_SQL = """
WITH creators AS (
    SELECT account_id AS creator_id FROM accounts WHERE kind IN ('creator', 'business')
),
category AS (
    SELECT creator_id, mode(category) AS category FROM videos
    WHERE category IS NOT NULL GROUP BY creator_id
),
plays AS (
    SELECT creator_id, sum(views) AS views,
           sum(likes) - sum(unlikes) + sum(comments) + sum(shares) AS engaged,
           count(DISTINCT video_id) FILTER (views > 0) AS videos
    FROM rollup_video_hourly WHERE local_date BETWEEN $s AND $e GROUP BY creator_id
),
net AS (
    SELECT creator_id, sum(followers_gained) - sum(followers_lost) AS net
    FROM rollup_creator_daily WHERE local_date BETWEEN $s AND $e GROUP BY creator_id
),
followers AS (
    -- At the end of the last day, UTC (the bands are coarse: a few hours of time zone
    -- move nobody across one).
    SELECT creator_id, count(*) AS followers FROM rollup_follower_spans
    WHERE since < $after AND (until IS NULL OR until >= $after) GROUP BY creator_id
)
SELECT c.creator_id, k.category, coalesce(f.followers, 0) AS followers,
       coalesce(p.views, 0) AS views, coalesce(p.engaged, 0) AS engaged,
       coalesce(p.videos, 0) AS videos, coalesce(n.net, 0) AS net
FROM creators c
LEFT JOIN category k USING (creator_id) LEFT JOIN plays p USING (creator_id)
LEFT JOIN net n USING (creator_id) LEFT JOIN followers f USING (creator_id)
"""


def trending_params(end: date) -> dict[str, date]:
    mid = end - timedelta(days=RECENT_DAYS)
    return {"start": mid - timedelta(days=BEFORE_DAYS - 1), "mid": mid, "end": end}


def creators_params(end: date) -> dict[str, date]:
    return {"s": end - timedelta(days=NICHE_DAYS - 1), "e": end, "after": end + timedelta(days=1)}


def platform_latest(con) -> date | None:
    """The newest local day in the rollups: the platform's "today"."""
    # fetchall, not fetchone: a result left unfinished blocks the connection's next register
    return con.execute("SELECT max(local_date) FROM rollup_video_hourly").fetchall()[0][0]


def stored_end(con) -> tuple[date, datetime] | None:
    """The day the stored platform figures are for, and when they were computed."""
    if not (has_table(con, TRENDING) and has_table(con, "platform_figures_state")):
        return None
    rows = con.execute("SELECT end_date, computed_at FROM platform_figures_state").fetchall()
    return rows[0] if rows else None


def refresh_platform(store: Store, *, force: bool = False) -> bool:
    """Recompute the platform tables when the latest day moved or they are old; whether
    they were recomputed."""
    con = store.con
    if not has_table(con, "rollup_video_hourly"):
        return False
    end = platform_latest(con)
    if end is None:
        return False
    now = datetime.now(UTC)
    state = stored_end(con)
    if not force and state is not None and state[0] == end:
        if now - state[1] < timedelta(minutes=MAX_AGE_MINUTES):
            return False
    con.execute("BEGIN")
    try:
        con.execute(f"CREATE OR REPLACE TABLE {TRENDING} AS {TRENDING_SQL}", trending_params(end))
        con.execute(f"CREATE OR REPLACE TABLE {CREATORS} AS {CREATORS_SQL}", creators_params(end))
        con.execute(
            "CREATE OR REPLACE TABLE platform_figures_state AS "
            "SELECT $end::DATE AS end_date, $now::TIMESTAMPTZ AS computed_at",
            {"end": end, "now": now},
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return True


def refresh_insights(store: Store) -> None:
    """What a refresh adds for the insights: comments scored, platform figures current."""
    refresh_sentiment(store)
    refresh_platform(store)
