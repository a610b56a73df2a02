"""Per-creator headline totals across the platform, the demo's first summary.

Only totals over a creator's whole audience, read from the rollups: no breakdown by any
person's attribute and no person named, so no cell can single anyone out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from creatorlens.store import Store


@dataclass(frozen=True)
class CreatorTotals:
    """A creator's headline figures over everything ingested."""

    creator_id: str
    videos: int
    plays: int
    views: int
    likes: int
    comments: int
    shares: int
    saves: int
    profile_views: int
    reach: int
    followers_gained: int
    followers_lost: int
    total_watch_ms: int


# Read from the rollups, never from raw events.
_TOTALS = """
WITH plays AS (
    SELECT creator_id,
           (SELECT count(*) FROM videos v WHERE v.creator_id = r.creator_id) AS videos,
           sum(plays) AS plays, sum(views) AS views,
           sum(likes) - sum(unlikes) AS likes, sum(comments) AS comments,
           sum(shares) AS shares, sum(saves) AS saves, sum(watch_ms) AS total_watch_ms
    FROM rollup_video_hourly r GROUP BY creator_id
),
profile AS (
    SELECT creator_id, sum(profile_views) AS profile_views,
           sum(followers_gained) AS followers_gained, sum(followers_lost) AS followers_lost
    FROM rollup_creator_daily GROUP BY creator_id
),
top AS (
    SELECT p.* FROM plays p
    JOIN accounts a ON a.account_id = p.creator_id AND a.kind IN ('creator', 'business')
    ORDER BY p.views DESC, p.creator_id LIMIT $n
),
reach AS (
    SELECT creator_id, count(DISTINCT viewer_pid) AS reach FROM rollup_audience_daily
    WHERE creator_id IN (SELECT creator_id FROM top) GROUP BY creator_id
)
SELECT t.creator_id, t.videos, t.plays, t.views, t.likes, t.comments, t.shares, t.saves,
       coalesce(f.profile_views, 0), coalesce(r.reach, 0),
       coalesce(f.followers_gained, 0), coalesce(f.followers_lost, 0), t.total_watch_ms
FROM top t LEFT JOIN profile f USING (creator_id) LEFT JOIN reach r USING (creator_id)
ORDER BY t.views DESC, t.creator_id
"""


def top_creators(db: str | Path, n: int = 5) -> list[CreatorTotals]:
    """The `n` creator or business accounts with the most views, with their totals."""
    with Store.open(db, read_only=True) as store:
        rows = store.con.execute(_TOTALS, {"n": n}).fetchall()
    return [CreatorTotals(*row) for row in rows]
