"""The declared panel queries' reads: true counts for what the query model's rows cannot say.

Each `read_*` answers one question type of `creatorlens.query.raw` from the rollups (and
the few store tables that describe videos and accounts), as a raw value for the release
stage. `read_panel` dispatches on the question.
"""

from __future__ import annotations

from typing import Any

from creatorlens.query.followers import follower_cells, followers_total
from creatorlens.query.insights import READERS as INSIGHT_READERS
from creatorlens.query.insights import (
    CommentSentiment,
    CreatorAccount,
    NicheBenchmark,
    TrendingTags,
    VideoAgeHours,
    VideoTraits,
)
from creatorlens.query.likers import read_likers
from creatorlens.query.raw import (
    CreatorList,
    FollowerActivity,
    FollowerDemographics,
    FollowersWatched,
    Raw,
    RawCreatorList,
    RawFollowerActivity,
    RawFollowerDemographics,
    RawFollowersWatched,
    RawVideoLikers,
    RawVideoMeta,
    RawVideoPositions,
    VideoLikers,
    VideoMeta,
    VideoPositions,
)
from creatorlens.query.runner import Context

Question = (
    FollowerActivity
    | FollowersWatched
    | FollowerDemographics
    | VideoPositions
    | VideoLikers
    | VideoMeta
    | CreatorList
    # The insights' questions (issue 18), read in `query.insights`.
    | VideoTraits
    | VideoAgeHours
    | CommentSentiment
    | TrendingTags
    | NicheBenchmark
    | CreatorAccount
)


def read_panel(ctx: Context, question: Question) -> Raw:
    """The raw answer to a declared panel query."""
    for kind, read in _READERS:
        if isinstance(question, kind):
            return read(ctx, question)
    raise TypeError(f"not a declared panel query: {type(question).__name__}")


# --- followers -----------------------------------------------------------------------------

# One row per follower and weekday × hour: few per creator (a follower is active at a few
# hours), and counting people per cell, weekday, hour and overall from them in Python costs
# less than DuckDB planning four distinct counts over grouping sets.
_ACTIVITY = """
SELECT viewer_pid, isodow(local_date) AS weekday, local_hour AS hour, sum(plays) AS plays,
       count(*) AS n_rows
FROM rollup_follower_activity
WHERE creator_id = $c AND local_date BETWEEN $s AND $e AND NOT opt_out
GROUP BY ALL
"""


def read_follower_activity(ctx: Context, q: FollowerActivity) -> RawFollowerActivity:
    """Distinct followers (and their plays) per weekday × hour, per weekday, per hour, and
    over the whole period."""
    params = {"c": q.creator_id, "s": q.period.start, "e": q.period.end}
    groups: dict[tuple, tuple[set, list[int]]] = {}
    n_rows = pids = 0
    for viewer, weekday, hour, plays, rows in ctx.con.execute(_ACTIVITY, params).fetchall():
        n_rows += rows
        for key in ((weekday, hour), ("weekday", weekday), ("hour", hour), ()):
            people, total = groups.setdefault(key, (set(), [0]))
            people.add(viewer)
            total[0] += int(plays)
    everyone, plays = groups.get((), (set(), [0]))
    for viewer in everyone:
        pids ^= viewer
    cells = tuple(
        sorted(
            (int(k[0]), int(k[1]), len(p), t[0])
            for k, (p, t) in groups.items()
            if len(k) == 2 and isinstance(k[0], int)
        )
    )
    marginal = {
        name: tuple(
            sorted((int(k[1]), len(p), t[0]) for k, (p, t) in groups.items() if k[:1] == (name,))
        )
        for name in ("weekday", "hour")
    }
    # The fingerprint of the rows counted (their number, pseudonyms and plays).
    counted = (n_rows, pids, plays[0])
    return RawFollowerActivity(
        q, cells, len(everyone), counted, marginal["weekday"], marginal["hour"]
    )


_WATCHED = """
WITH top AS (
    -- Distinct followers in two steps (one row per follower and video, then a count):
    -- cheaper than a distinct count's hash table per video.
    SELECT video_id, count(*) AS followers, sum(plays) AS plays FROM (
        SELECT video_id, follower_pid, sum(plays) AS plays
        FROM rollup_follower_watch
        WHERE creator_id = $c AND local_date BETWEEN $s AND $e AND NOT opt_out
        GROUP BY video_id, follower_pid
    ) per_follower
    GROUP BY video_id
    ORDER BY followers DESC, plays DESC, video_id LIMIT $n
)
-- The creators of the few videos listed only: a join of the top rows, not of all.
SELECT t.video_id, v.creator_id, t.followers, t.plays
FROM top t LEFT JOIN videos v ON v.video_id = t.video_id
ORDER BY t.followers DESC, t.plays DESC, t.video_id
"""


def read_followers_watched(ctx: Context, q: FollowersWatched) -> RawFollowersWatched:
    """The videos most followers watched (distinct followers, opt-outs excluded); read a few
    more than the limit, since the release drops those with too few followers."""
    params = {"c": q.creator_id, "s": q.period.start, "e": q.period.end, "n": q.limit * 5}
    rows = tuple(
        (v, c, int(f), int(p)) for v, c, f, p in ctx.con.execute(_WATCHED, params).fetchall()
    )
    return RawFollowersWatched(q, rows, followers_total(ctx, q.creator_id, q.period.end))


def read_follower_demographics(ctx: Context, q: FollowerDemographics) -> RawFollowerDemographics:
    return RawFollowerDemographics(q, follower_cells(ctx, q.creator_id, q.end))


# --- a video's panels ----------------------------------------------------------------------


def video_row(ctx: Context, video_id: str) -> tuple[str, int] | None:
    """The video's creator and duration (read once per context)."""
    return ctx.once(
        ("video", video_id),
        lambda: ctx.con.execute(
            "SELECT creator_id, duration_ms FROM videos WHERE video_id = ?", [video_id]
        ).fetchone(),
    )


_POSITIONS = """
SELECT 'retention', bucket, sum(plays) FROM rollup_retention_daily
WHERE creator_id = $c AND video_id = $v AND local_date BETWEEN $s AND $e
GROUP BY bucket
UNION ALL
SELECT 'likes', bucket, sum(likes) FROM rollup_like_seconds
WHERE creator_id = $c AND video_id = $v AND local_date BETWEEN $s AND $e
GROUP BY bucket
UNION ALL
SELECT 'likers', NULL, count(DISTINCT actor_id) FROM rollup_likes_daily
WHERE creator_id = $c AND video_id = $v AND local_date BETWEEN $s AND $e
  AND last_like_ts IS NOT NULL
"""


def read_video_positions(ctx: Context, q: VideoPositions) -> RawVideoPositions:
    """Plays by how far they got, likes by position, and how many accounts liked in the
    period: one read for both panels."""
    video = video_row(ctx, q.video_id)
    if video is None or video[0] != q.creator_id:
        return RawVideoPositions(q, None, (), (), 0)
    params = {"c": q.creator_id, "v": q.video_id, "s": q.period.start, "e": q.period.end}
    out: dict[str, list] = {"retention": [], "likes": [], "likers": []}
    for panel, bucket, n in ctx.con.execute(_POSITIONS, params).fetchall():
        out[panel].append((bucket, int(n or 0)))
    likers = out["likers"][0][1] if out["likers"] else 0
    return RawVideoPositions(q, video[1], tuple(out["retention"]), tuple(out["likes"]), likers)


def read_video_likers(ctx: Context, q: VideoLikers) -> RawVideoLikers:
    named, others = read_likers(ctx.con, q.video_id, q.creator_id)
    return RawVideoLikers(q, tuple(named), others)


def read_video_meta(ctx: Context, q: VideoMeta) -> RawVideoMeta:
    if not q.video_ids:
        return RawVideoMeta(q, {})
    rows = ctx.con.execute(
        "SELECT video_id, creator_id, posted_at, duration_ms, caption, hashtags FROM videos "
        "WHERE video_id IN (SELECT unnest($ids))",
        {"ids": list(q.video_ids)},
    ).fetchall()
    # Only the creator's own videos (filtered here: a condition on the creator in the
    # statement keeps DuckDB from looking the ids up, four times slower).
    rows = [row for row in rows if row[1] == q.creator_id]
    for v, creator, _, d, _, _ in rows:
        ctx.memo[("video", v)] = (creator, d)  # for the detail panels
    videos: dict[str, dict[str, Any]] = {
        v: {
            "posted_at": p.isoformat() if p else None,
            "duration_ms": d,
            "caption": c,
            "hashtags": list(h or []),
        }
        for v, _, p, d, c, h in rows
    }
    return RawVideoMeta(q, videos)


# --- the platform's creators ---------------------------------------------------------------

# Read from the rollups, never from raw events.
_CREATORS = """
WITH creators AS (
    SELECT account_id AS creator_id FROM accounts WHERE kind IN ('creator', 'business')
),
plays AS (
    SELECT creator_id, sum(plays) AS plays, sum(views) AS views,
           sum(likes) - sum(unlikes) AS likes, sum(comments) AS comments,
           sum(shares) AS shares, sum(saves) AS saves, sum(watch_ms) AS total_watch_ms
    FROM rollup_video_hourly WHERE creator_id IN (SELECT creator_id FROM creators)
    GROUP BY creator_id
),
videos AS (
    SELECT creator_id, count(*) AS videos FROM videos GROUP BY creator_id
),
profile AS (
    SELECT creator_id, sum(profile_views) AS profile_views,
           sum(followers_gained) AS followers_gained, sum(followers_lost) AS followers_lost
    FROM rollup_creator_daily GROUP BY creator_id
),
followers AS (
    SELECT creator_id, count(*) AS followers FROM rollup_follower_spans
    WHERE until IS NULL GROUP BY creator_id
),
top AS (
    SELECT c.creator_id, coalesce(p.views, 0) AS views FROM creators c
    LEFT JOIN plays p USING (creator_id)
    ORDER BY views DESC, c.creator_id LIMIT $n
),
reach AS (
    SELECT creator_id, count(DISTINCT viewer_pid) AS reach FROM rollup_audience_daily
    WHERE creator_id IN (SELECT creator_id FROM top) GROUP BY creator_id
)
SELECT t.creator_id, coalesce(v.videos, 0), coalesce(p.plays, 0), coalesce(p.views, 0),
       coalesce(p.likes, 0), coalesce(p.comments, 0), coalesce(p.shares, 0),
       coalesce(p.saves, 0), coalesce(f.profile_views, 0), coalesce(r.reach, 0),
       coalesce(f.followers_gained, 0), coalesce(f.followers_lost, 0),
       coalesce(p.total_watch_ms, 0), coalesce(fo.followers, 0)
FROM top t
LEFT JOIN plays p USING (creator_id) LEFT JOIN videos v USING (creator_id)
LEFT JOIN profile f USING (creator_id) LEFT JOIN reach r USING (creator_id)
LEFT JOIN followers fo USING (creator_id)
ORDER BY t.views DESC, t.creator_id
"""

CREATOR_LIST_FIELDS = (
    "creator_id",
    "videos",
    "plays",
    "views",
    "likes",
    "comments",
    "shares",
    "saves",
    "profile_views",
    "reach",
    "followers_gained",
    "followers_lost",
    "total_watch_ms",
    "followers",
)


def read_creator_list(ctx: Context, q: CreatorList) -> RawCreatorList:
    """Every creator or business account's all-time totals, most viewed first."""
    rows = ctx.con.execute(_CREATORS, {"n": q.limit if q.limit else 2**62}).fetchall()
    return RawCreatorList(
        q, tuple(dict(zip(CREATOR_LIST_FIELDS, map(_plain, row), strict=True)) for row in rows)
    )


def _plain(value: Any) -> Any:
    return value if isinstance(value, str) else int(value)


_READERS = (
    (FollowerActivity, read_follower_activity),
    (FollowersWatched, read_followers_watched),
    (FollowerDemographics, read_follower_demographics),
    (VideoPositions, read_video_positions),
    (VideoLikers, read_video_likers),
    (VideoMeta, read_video_meta),
    (CreatorList, read_creator_list),
    *INSIGHT_READERS,
)
