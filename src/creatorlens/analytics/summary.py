"""Per-creator headline totals, the demo's first summary.

Only totals over a creator's whole audience: no breakdown by any person's attribute and no
person named, so no cell can single anyone out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from creatorlens.store import Store

VIEW_THRESHOLD_MS = 3_000


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


_TOTALS = """
WITH per_creator AS (
    SELECT creator_id,
           count(*) FILTER (type = 'view') AS plays,
           count(*) FILTER (type = 'view' AND watched_ms >= $view_ms) AS views,
           count(*) FILTER (type = 'like') - count(*) FILTER (type = 'unlike') AS likes,
           count(*) FILTER (type = 'comment') AS comments,
           count(*) FILTER (type = 'share') AS shares,
           count(*) FILTER (type = 'save') AS saves,
           count(*) FILTER (type = 'profile_view') AS profile_views,
           count(DISTINCT viewer_pid) FILTER (type = 'view') AS reach,
           count(*) FILTER (type = 'follow') AS followers_gained,
           count(*) FILTER (type = 'unfollow') AS followers_lost,
           coalesce(sum(watched_ms) FILTER (type = 'view'), 0) AS total_watch_ms
    FROM events
    WHERE creator_id IS NOT NULL
    GROUP BY creator_id
)
SELECT p.creator_id,
       (SELECT count(*) FROM videos v WHERE v.creator_id = p.creator_id) AS videos,
       p.* EXCLUDE (creator_id)
FROM per_creator p
JOIN accounts a ON a.account_id = p.creator_id AND a.kind IN ('creator', 'business')
ORDER BY views DESC, p.creator_id
LIMIT $n
"""


def top_creators(db: str | Path, n: int = 5) -> list[CreatorTotals]:
    """The `n` creator or business accounts with the most views, with their totals."""
    with Store.open(db, read_only=True) as store:
        rows = store.con.execute(_TOTALS, {"view_ms": VIEW_THRESHOLD_MS, "n": n}).fetchall()
    return [CreatorTotals(*row) for row in rows]
